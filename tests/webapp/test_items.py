"""The item page and the daily journeys through it, driven with the Flask test client."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from samples import make_png
from sqlalchemy import select
from web_fixtures import csrf_token

from ledger.core.models import Evidence, Item, ItemEvent
from ledger.items import services as svc
from ledger.items.services import Upload
from ledger.items.workflow import RULES
from web.items.forms import EVENT_FORMS


def offered(html: str) -> list[str]:
    return re.findall(r'data-event="(\w+)"', html)


def item_url(item_id: int) -> str:
    return f"/items/{item_id}"


def post_event(client, item_id, event, data, files=None):
    page = client.get(item_url(item_id)).get_data(as_text=True)
    token = re.search(r'name="(?:\w+-)?csrf_token"[^>]*value="([^"]+)"', page).group(1)
    version = re.search(rf'name="{event}-expected_version"[^>]*value="(\d+)"', page)
    form = {f"{event}-csrf_token": token,
            f"{event}-expected_version": version.group(1) if version else ""}
    form.update({f"{event}-{k}": v for k, v in data.items()})
    if files:
        form[f"{event}-files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(f"/items/{item_id}/events/{event}", data=form,
                       content_type="multipart/form-data")


def state(sanhu, item_id):
    with sanhu.uow() as uow:
        item = uow.session.get(Item, item_id)
        return item.status, item.version


@pytest.fixture
def found(sanhu, world):
    with sanhu.uow() as uow:
        return svc.record_finding(uow, world["town_T11"], unit_id=world.units["V111"].id,
                                  description="党员活动室制度未上墙")


def assigned(sanhu, world, found):
    with sanhu.uow() as uow:
        svc.assign(uow, found.id, world["town_T11"], responsible_user_id=world["sec_V111"].id,
                   category="deadline", deadline="10w")
    return found.id


def submitted(sanhu, world, found):
    item_id = assigned(sanhu, world, found)
    with sanhu.uow() as uow:
        svc.accept(uow, item_id, world["sec_V111"], measures="制作制度牌")
    with sanhu.uow() as uow:
        svc.submit(uow, item_id, world["sec_V111"], note="已上墙",
                   uploads=[Upload(make_png(), "after.png")])
    return item_id


def test_every_workflow_event_has_a_form():
    assert set(EVENT_FORMS) == {rule.event for rule in RULES}


@pytest.mark.parametrize("who", ["town_T11", "county_K1", "sec_V111", "sup_K1", "city"])
def test_the_page_offers_exactly_the_events_the_workflow_allows(sanhu, world, signed_in,
                                                                found, who):
    client = signed_in(who)
    for step in ("found", "assigned", "submitted"):
        if step == "assigned":
            assigned(sanhu, world, found)
        if step == "submitted":
            with sanhu.uow() as uow:
                svc.accept(uow, found.id, world["sec_V111"], measures="m")
            with sanhu.uow() as uow:
                svc.submit(uow, found.id, world["sec_V111"], note="n",
                           uploads=[Upload(make_png(), "a.png")])
        with sanhu.uow() as uow:
            expected = svc.available_events(uow, found.id, world[who])
        html = client.get(item_url(found.id)).get_data(as_text=True)
        assert offered(html) == expected, step


def test_another_villages_item_and_its_files_are_not_found(sanhu, world, signed_in, found):
    item_id = submitted(sanhu, world, found)
    with sanhu.uow() as uow:
        evidence_id = uow.session.scalar(select(Evidence.id).where(Evidence.item_id == item_id))
    neighbour = signed_in("sec_V112")
    assert neighbour.get(item_url(item_id)).status_code == 404
    assert neighbour.get(f"/items/evidence/{evidence_id}").status_code == 404
    other_county = signed_in("county_K2")
    assert other_county.get(f"/items/evidence/{evidence_id}?inline=1").status_code == 404
    owner = signed_in("sec_V111")
    with owner.get(f"/items/evidence/{evidence_id}") as response:
        assert response.status_code == 200 and response.data == make_png()
        assert "attachment" in response.headers["Content-Disposition"]
    with owner.get(f"/items/evidence/{evidence_id}?inline=1") as response:
        assert response.mimetype == "image/png"


def test_the_whole_journey_through_the_pages(sanhu, world, signed_in):
    town = signed_in("town_T11")
    page = town.get("/items/new").get_data(as_text=True)
    assert "登记问题" in page
    token = csrf_token(town, "/items/new")
    # preview: the computed working-day date is shown before anything is saved
    form = {"csrf_token": token, "unit_id": world.units["V111"].id, "standard_id": 0,
            "cycle_id": 0, "source": "observation", "severity": "normal",
            "description": "三会一课记录不全", "category": "deadline", "deadline": "5w"}
    preview = town.post("/items/new", data={**form, "preview": "1"})
    assert preview.status_code == 200
    with sanhu.uow() as uow:
        expected = svc.preview_deadline(uow, "5w").date
        assert uow.session.scalar(select(Item.id)) is None
    assert str(expected.day) in preview.get_data(as_text=True)
    response = town.post("/items/new", data=form)
    assert response.status_code == 302
    item_id = int(response.headers["Location"].rsplit("/", 1)[1])
    item_status, _ = state(sanhu, item_id)
    assert item_status == "assigned"

    sec = signed_in("sec_V111")
    assert offered(sec.get(item_url(item_id)).get_data(as_text=True)) == ["accept",
                                                                          "request_extension"]
    assert post_event(sec, item_id, "accept", {"measures": "补齐记录"}).status_code == 302
    assert post_event(sec, item_id, "report_progress", {"note": "已补齐一半"},
                      files=[("half.png", make_png(1))]).status_code == 302
    assert post_event(sec, item_id, "submit", {"note": "全部补齐"},
                      files=[("done.png", make_png(2))]).status_code == 302
    assert state(sanhu, item_id)[0] == "submitted"

    refused = post_event(town, item_id, "reject", {"reason": ""})
    assert refused.status_code == 400 and "此项为必填项" in refused.get_data(as_text=True)
    assert post_event(town, item_id, "reject", {"reason": "缺少签名"}).status_code == 302
    assert state(sanhu, item_id)[0] == "rectifying"
    assert post_event(sec, item_id, "submit", {"note": "已签名"},
                      files=[("signed.png", make_png(3))]).status_code == 302
    assert post_event(town, item_id, "verify", {"method": "onsite", "note": "属实"}).status_code \
        == 302
    county = signed_in("county_K1")
    assert post_event(county, item_id, "close", {"note": ""}).status_code == 302
    assert state(sanhu, item_id)[0] == "closed"

    html = county.get(item_url(item_id)).get_data(as_text=True)
    for text in ("签收", "报告进展", "申请销号", "退回", "缺少签名", "验收通过", "销号",
                 "half.png", "done.png", "signed.png"):
        assert text in html
    with sanhu.uow() as uow:
        events = uow.session.scalars(select(ItemEvent.event).where(ItemEvent.item_id == item_id)
                                     .order_by(ItemEvent.seq)).all()
    assert events == ["record", "assign", "accept", "report_progress", "submit", "reject",
                      "submit", "verify", "close"]


def test_a_conflict_shows_the_fresh_state_and_keeps_what_was_typed(sanhu, world, signed_in,
                                                                   found):
    item_id = submitted(sanhu, world, found)
    town = signed_in("town_T11")
    page = town.get(item_url(item_id)).get_data(as_text=True)
    token = re.search(r'name="verify-csrf_token"[^>]*value="([^"]+)"', page).group(1)
    stale = re.search(r'name="verify-expected_version"[^>]*value="(\d+)"', page).group(1)
    with sanhu.uow() as uow:  # meanwhile the county sends it back
        svc.reject(uow, item_id, world["county_K1"], reason="照片不清楚")
    response = town.post(f"/items/{item_id}/events/verify", data={
        "verify-csrf_token": token, "verify-expected_version": stale,
        "verify-method": "onsite", "verify-note": "我在现场核实过了"})
    html = response.get_data(as_text=True)
    assert response.status_code in (409, 400)
    assert "其他人已修改" in html or "不能进行此操作" in html or "尚未申请销号" in html
    assert "我在现场核实过了" in html
    assert "整改中" in html and state(sanhu, item_id)[0] == "rectifying"


def test_a_version_conflict_is_reported_as_such_and_the_retry_works(sanhu, world, signed_in,
                                                                    found):
    item_id = assigned(sanhu, world, found)
    sec = signed_in("sec_V111")
    page = sec.get(item_url(item_id)).get_data(as_text=True)
    token = re.search(r'name="accept-csrf_token"[^>]*value="([^"]+)"', page).group(1)
    with sanhu.uow() as uow:  # the county changes the deadline meanwhile (reassign)
        svc.reassign(uow, item_id, world["county_K1"], responsible_user_id=world["sec_V111"].id,
                     reason="调整时限", deadline="12w")
    _, version = state(sanhu, item_id)
    response = sec.post(f"/items/{item_id}/events/accept", data={
        "accept-csrf_token": token, "accept-expected_version": str(version - 1),
        "accept-measures": "立即整改"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "其他人已修改" in html and "立即整改" in html
    fresh = re.search(r'name="accept-expected_version"[^>]*value="(\d+)"', html).group(1)
    assert int(fresh) == version
    retry = sec.post(f"/items/{item_id}/events/accept", data={
        "accept-csrf_token": token, "accept-expected_version": fresh,
        "accept-measures": "立即整改"})
    assert retry.status_code == 302 and state(sanhu, item_id)[0] == "rectifying"


def test_a_refused_file_type_is_explained_and_the_note_is_kept(sanhu, world, signed_in, found):
    item_id = assigned(sanhu, world, found)
    with sanhu.uow() as uow:
        svc.accept(uow, item_id, world["sec_V111"], measures="m")
    sec = signed_in("sec_V111")
    response = post_event(sec, item_id, "submit", {"note": "整改完毕的说明"},
                          files=[("notes.txt", b"just text")])
    assert response.status_code == 303  # the item's page tells why, once
    html = sec.get(response.headers["Location"]).get_data(as_text=True)
    assert "不接受此类型的文件" in html and "整改完毕的说明" in html
    assert state(sanhu, item_id)[0] == "rectifying"


def test_a_file_uploaded_with_a_missing_note_is_kept_for_the_retry(sanhu, world, signed_in,
                                                                   found):
    item_id = assigned(sanhu, world, found)
    with sanhu.uow() as uow:
        svc.accept(uow, item_id, world["sec_V111"], measures="m")
    sec = signed_in("sec_V111")
    response = post_event(sec, item_id, "submit", {"note": ""}, files=[("after.png", make_png())])
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "after.png" in html
    kept = re.search(r'name="kept_file" value="([^"]+)"', html).group(1)
    token = re.search(r'name="submit-csrf_token"[^>]*value="([^"]+)"', html).group(1)
    version = re.search(r'name="submit-expected_version"[^>]*value="(\d+)"', html).group(1)
    retry = sec.post(f"/items/{item_id}/events/submit", data={
        "submit-csrf_token": token, "submit-expected_version": version,
        "submit-note": "补上说明", "kept_file": kept})
    assert retry.status_code == 302
    with sanhu.uow() as uow:
        names = uow.session.scalars(select(Evidence.original_name)
                                    .where(Evidence.item_id == item_id)).all()
    assert names == ["after.png"]


def test_a_kept_file_token_of_another_user_is_ignored(sanhu, world, signed_in, found):
    item_id = assigned(sanhu, world, found)
    with sanhu.uow() as uow:
        svc.accept(uow, item_id, world["sec_V111"], measures="m")
    sec = signed_in("sec_V111")
    html = post_event(sec, item_id, "submit", {"note": ""},
                      files=[("after.png", make_png())]).get_data(as_text=True)
    kept = re.search(r'name="kept_file" value="([^"]+)"', html).group(1)
    town = signed_in("town_T11")  # cannot submit anyway; a secretary of the same village can't
    response = post_event(town, item_id, "report_progress", {"note": "x"})
    assert response.status_code in (400, 403, 409)
    page = sec.get(item_url(item_id)).get_data(as_text=True)
    assert "after.png" not in page  # nothing was attached by the failed attempt
    assert kept


def test_an_event_the_user_may_not_fire_is_refused_and_changes_nothing(sanhu, world, signed_in,
                                                                      found):
    item_id = submitted(sanhu, world, found)
    sec = signed_in("sec_V111")
    before = state(sanhu, item_id)
    response = post_event(sec, item_id, "verify", {"method": "onsite", "note": "自己验收"})
    assert response.status_code == 403
    assert "您无权进行此操作" in response.get_data(as_text=True)
    assert state(sanhu, item_id) == before
    assert post_event(signed_in("sec_V112"), item_id, "report_progress",
                      {"note": "x"}).status_code == 404


def test_an_unknown_event_is_not_found(signed_in, sanhu, world, found):
    client = signed_in("town_T11")
    assert client.post(f"/items/{found.id}/events/explode", data={}).status_code in (400, 404)


def test_recording_with_missing_fields_keeps_the_values(signed_in, world):
    town = signed_in("town_T11")
    token = csrf_token(town, "/items/new")
    response = town.post("/items/new", data={
        "csrf_token": token, "unit_id": world.units["V112"].id, "standard_id": 0, "cycle_id": 0,
        "source": "inspection", "severity": "serious", "description": "", "category": "",
        "deadline": "3w"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "此项为必填项" in html
    assert re.search(rf'selected value="{world.units["V112"].id}"', html)
    assert 'value="3w"' in html


def test_recording_against_a_unit_outside_the_scope_is_refused(signed_in, world, sanhu):
    town = signed_in("town_T11")
    token = csrf_token(town, "/items/new")
    response = town.post("/items/new", data={
        "csrf_token": token, "unit_id": world.units["V211"].id, "standard_id": 0, "cycle_id": 0,
        "source": "inspection", "severity": "normal", "description": "越权登记"})
    assert response.status_code == 400  # not a choice of this user's picker
    with sanhu.uow() as uow:
        assert uow.session.scalar(select(Item.id)) is None


def test_the_deadline_preview_answers_with_the_date_and_a_provisional_flag(signed_in):
    client = signed_in("town_T11")
    ok = client.get("/items/deadline-preview?deadline=5w").get_json()
    assert ok["ok"] and ok["date"]
    bad = client.get("/items/deadline-preview?deadline=soon")
    assert bad.status_code == 400 and "工作日" in bad.get_json()["message"]


def test_a_village_secretary_cannot_open_the_record_page_for_a_post(signed_in):
    client = signed_in("sec_V111")
    response = client.get("/items/new")
    assert response.status_code in (200, 403)


def test_the_county_reassigns_and_decides_extensions_through_the_page(sanhu, world, signed_in,
                                                                      found):
    item_id = assigned(sanhu, world, found)
    county = signed_in("county_K1")
    # reassign to the neighbouring village; its secretary is taken when no person is chosen
    response = post_event(county, item_id, "reassign", {
        "unit_id": world.units["V112"].id, "responsible_user_id": "0", "deadline": "",
        "reason": "属于西村的问题"})
    assert response.status_code == 302
    with sanhu.uow() as uow:
        item = uow.session.get(Item, item_id)
        assert item.unit_id == world.units["V112"].id
        assert item.responsible_user_id == world["sec_V112"].id
    assert signed_in("sec_V111").get(item_url(item_id)).status_code == 404

    sec = signed_in("sec_V112")
    with sanhu.uow() as uow:
        later = (uow.session.get(Item, item_id).deadline + dt.timedelta(days=20)).isoformat()
    assert post_event(sec, item_id, "request_extension",
                      {"deadline": later, "reason": "材料需外地采购"}).status_code == 302
    html = county.get(item_url(item_id)).get_data(as_text=True)
    assert "材料需外地采购" in html and "approve_extension" in offered(html)
    assert post_event(county, item_id, "deny_extension", {"reason": ""}).status_code == 400
    assert post_event(county, item_id, "approve_extension", {"note": "同意"}).status_code == 302
    with sanhu.uow() as uow:
        item = uow.session.get(Item, item_id)
        assert item.deadline.isoformat() == later and item.pending_extension is None


def test_the_county_dismisses_a_duplicate_and_reopens_a_closed_item(sanhu, world, signed_in,
                                                                    found):
    county = signed_in("county_K1")
    with sanhu.uow() as uow:
        dup = svc.record_finding(uow, world["town_T11"], unit_id=world.units["V111"].id,
                                 description="重复登记的问题")
    assert post_event(county, dup.id, "dismiss",
                      {"kind": "duplicate", "reason": "与上一条重复"}).status_code == 302
    html = county.get(item_url(dup.id)).get_data(as_text=True)
    assert "已撤销" in html and offered(html) == []

    item_id = submitted(sanhu, world, found)
    with sanhu.uow() as uow:
        svc.verify(uow, item_id, world["town_T11"], method="实地查看", note="好")
    assert post_event(county, item_id, "close", {"note": ""}).status_code == 302
    assert post_event(county, item_id, "reopen",
                      {"reason": "回头看发现制度牌被撤下", "deadline": "2w"}).status_code == 302
    assert state(sanhu, item_id)[0] == "rectifying"


def test_the_item_page_is_in_english_when_chosen(sanhu, world, signed_in, found):
    client = signed_in("town_T11")
    client.set_cookie("sanhu_lang", "en")
    html = client.get(item_url(found.id)).get_data(as_text=True)
    assert "What you can do now" in html and "History" in html and "Assign (交办)" in html


def test_recording_with_a_past_or_malformed_deadline_records_nothing(signed_in, world, sanhu):
    town = signed_in("town_T11")
    token = csrf_token(town, "/items/new")
    for deadline, message in (("2020-01-01", "整改时限不能早于今天"), ("soon", "工作日数")):
        response = town.post("/items/new", data={
            "csrf_token": token, "unit_id": world.units["V111"].id, "standard_id": 0,
            "cycle_id": 0, "source": "observation", "severity": "normal",
            "description": "制度未上墙", "category": "deadline", "deadline": deadline})
        html = response.get_data(as_text=True)
        assert response.status_code == 400 and message in html and "制度未上墙" in html
    with sanhu.uow() as uow:
        assert uow.session.scalar(select(Item.id)) is None
