"""Nothing lost silently: a text over its limit is refused with a message beside the field
and kept in the form, never cut; the limit is shown (and counted by textlimit.js) rather
than enforced by the browser; a refused upload leaves the user at the item's address."""

from __future__ import annotations

import html as html_lib
import re
from urllib.parse import urlsplit

import pytest
from samples import make_png
from sqlalchemy import func, select

from ledger.core.models import Item, ItemEvent
from ledger.items import services as svc

TOO_LONG = "最多 4000 字，现有 {n} 字，请删减后再提交。"


def record_form(client) -> dict:
    page = client.get("/items/new").get_data(as_text=True)
    return dict(re.findall(r'<input[^>]*name="(csrf_token|form_token)"[^>]*value="([^"]+)"',
                           page))


def record(client, world, description: str):
    form = {**record_form(client), "unit_id": world.units["V111"].id, "standard_id": 0,
            "cycle_id": 0, "source": "observation", "severity": "normal",
            "description": description, "category": "", "deadline": ""}
    return client.post("/items/new", data=form)


def textarea(page: str, name: str) -> str:
    """The text inside the named textarea, as the browser shows it."""
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    assert match, f"no textarea {name}"
    # the browser drops one line break right after the opening tag (as Jinja/WTForms add)
    return html_lib.unescape(match.group(1).removeprefix("\r\n").removeprefix("\n"))


def items(sanhu) -> int:
    with sanhu.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(Item))


def test_the_form_shows_the_limit_for_the_counter_and_lets_the_browser_cut_nothing(
        world, signed_in):
    page = signed_in("town_T11").get("/items/new").get_data(as_text=True)
    tag = re.search(r'<textarea[^>]*name="description"[^>]*>', page).group(0)
    assert 'data-maxlength="4000"' in tag and " maxlength=" not in tag
    deadline = re.search(r'<input[^>]*name="deadline"[^>]*>', page).group(0)
    assert 'data-maxlength="20"' in deadline and " maxlength=" not in deadline
    assert "/static/js/textlimit.js" in page
    assert 'data-text-over="超出 %(n)s 字"' in page  # the counter's words, in Chinese


@pytest.mark.parametrize("length", [4001, 10_010])
def test_a_description_over_the_limit_is_refused_with_a_message_and_kept_whole(
        sanhu, world, signed_in, length):
    town = signed_in("town_T11")
    text = ("三会一课记录不全，" * 2000)[:length]
    response = record(town, world, text)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert TOO_LONG.format(n=length) in page
    assert textarea(page, "description") == text  # every character typed is still there
    assert items(sanhu) == 0


def test_a_description_of_exactly_the_limit_is_stored_whole(sanhu, world, signed_in):
    town = signed_in("town_T11")
    text = ("党员活动室制度未上墙。" * 400)[:4000]
    response = record(town, world, text)
    assert response.status_code == 302
    with sanhu.uow() as uow:
        assert uow.session.scalar(select(Item.description)) == text


def test_a_line_break_counts_once_as_in_the_counter(sanhu, world, signed_in):
    town = signed_in("town_T11")
    lines = ["一" * 999, "二" * 999, "三" * 999, "四" * 1000]  # 3,997 + 3 line breaks
    response = record(town, world, "\r\n".join(lines))  # how a browser sends them
    assert response.status_code == 302
    with sanhu.uow() as uow:
        assert uow.session.scalar(select(Item.description)) == "\n".join(lines)


@pytest.fixture
def rectifying(sanhu, world):
    """An item the secretary of V111 has accepted: they may report progress and submit."""
    with sanhu.uow() as uow:
        item = svc.record_finding(uow, world["town_T11"], unit_id=world.units["V111"].id,
                                  description="党员活动室制度未上墙")
    with sanhu.uow() as uow:
        svc.assign(uow, item.id, world["town_T11"], responsible_user_id=world["sec_V111"].id,
                   category="deadline", deadline="10w")
    with sanhu.uow() as uow:
        svc.accept(uow, item.id, world["sec_V111"], measures="制作制度牌")
    return item.id


def post_event(client, item_id: int, event: str, data: dict, files=()):
    import io
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    token = re.search(r'name="(?:\w+-)?csrf_token"[^>]*value="([^"]+)"', page).group(1)
    version = re.search(rf'name="{event}-expected_version"[^>]*value="(\d+)"', page).group(1)
    form = {f"{event}-csrf_token": token, f"{event}-expected_version": version,
            **{f"{event}-{k}": v for k, v in data.items()}}
    if files:
        form[f"{event}-files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(f"/items/{item_id}/events/{event}", data=form,
                       content_type="multipart/form-data")


def progress_notes(sanhu, item_id: int) -> list[str]:
    with sanhu.uow() as uow:
        return list(uow.session.scalars(select(ItemEvent.note).where(
            ItemEvent.item_id == item_id, ItemEvent.event == "report_progress")))


def test_an_event_note_over_the_limit_is_refused_and_kept_and_the_limit_is_accepted(
        sanhu, world, signed_in, rectifying):
    sec = signed_in("sec_V111")
    page = sec.get(f"/items/{rectifying}").get_data(as_text=True)
    tag = re.search(r'<textarea[^>]*name="report_progress-note"[^>]*>', page).group(0)
    assert 'data-maxlength="4000"' in tag and " maxlength=" not in tag
    text = "已制作制度牌并上墙" * 445  # 4,005 characters
    refused = post_event(sec, rectifying, "report_progress", {"note": text})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert TOO_LONG.format(n=len(text)) in html
    assert textarea(html, "report_progress-note") == text
    assert progress_notes(sanhu, rectifying) == []
    accepted = post_event(sec, rectifying, "report_progress", {"note": text[:4000]})
    assert accepted.status_code == 302
    assert progress_notes(sanhu, rectifying) == [text[:4000]]


def test_a_refused_upload_redirects_to_the_item_which_shows_the_form_once(
        sanhu, world, signed_in, rectifying):
    """Post/Redirect/Get: the answer to the refused post is a redirect to the item's own
    address, so a refresh reloads the item; the page shows the refusal and the typed note
    once, and the next visit is the plain page."""
    sec = signed_in("sec_V111")
    fake = ("整改照片.png", b"MZ\x90\x00 not a picture at all")
    good = ("整改后.png", make_png())
    response = post_event(sec, rectifying, "submit", {"note": "整改完毕，附照片"},
                          files=[fake, good])
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == f"/items/{rectifying}"
    html = sec.get(f"/items/{rectifying}").get_data(as_text=True)
    errors = re.findall(r'class="invalid-feedback d-block field-error">([^<]*)<', html)
    assert any("整改照片.png" in e for e in errors), errors
    assert textarea(html, "submit-note") == "整改完毕，附照片"
    assert "整改后.png" in html and 'name="kept_file"' in html  # the accepted file waits
    again = sec.get(f"/items/{rectifying}").get_data(as_text=True)
    assert "整改照片.png" not in again and "整改完毕，附照片" not in again
    assert 'name="kept_file"' not in again
    with sanhu.uow() as uow:
        assert uow.session.get(Item, rectifying).status == "rectifying"


def test_a_good_upload_still_redirects_to_the_item(sanhu, world, signed_in, rectifying):
    sec = signed_in("sec_V111")
    response = post_event(sec, rectifying, "submit", {"note": "整改完毕"},
                          files=[("after.png", make_png())])
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/items/{rectifying}")


def test_no_hand_written_textarea_lets_the_browser_cut_its_text():
    """Text areas written out in templates carry data-maxlength (counted by textlimit.js;
    their services refuse a longer text and the pages keep it), never maxlength."""
    from pathlib import Path

    templates = Path(__file__).parents[2] / "web" / "templates"
    cutting, counted = [], 0
    for path in sorted(templates.rglob("*.html")):
        for tag in re.findall(r"<textarea[^>]*>", path.read_text(encoding="utf-8")):
            if re.search(r"(?<![-\w])maxlength=", tag):
                cutting.append(f"{path.relative_to(templates)}: {tag}")
            counted += "data-maxlength=" in tag
    assert cutting == []
    assert counted >= 12  # observations, survey, results: the ones written out by hand


def test_an_admin_form_refuses_a_long_name_with_the_same_message_and_keeps_it(
        sanhu, world, signed_in):
    from ledger.core.models import Unit

    admin = signed_in("admin")
    k2 = world.units["K2"].id
    page = admin.get(f"/admin/units/{k2}").get_data(as_text=True)
    tag = re.search(r'<input[^>]*name="name"[^>]*>', page).group(0)
    assert 'data-maxlength="100"' in tag and " maxlength=" not in tag
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    name = "西河" * 50 + "县"  # 101 characters
    response = admin.post(f"/admin/units/{k2}/rename", data={"csrf_token": token,
                                                               "name": name})
    html = response.get_data(as_text=True)
    assert response.status_code == 200  # the unit page again, as for any refusal here
    assert "最多 100 字，现有 101 字，请删减后再提交。" in html and f'value="{name}"' in html
    with sanhu.uow() as uow:
        assert uow.session.get(Unit, k2).name == "县2"
