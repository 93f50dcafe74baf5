"""The ranking notice (通报排名) through the Flask client: issued from the ranking page,
printed, listed, announced in the inbox; refusals with their reasons and the text kept."""

from __future__ import annotations

import html as htmllib
import re

import pytest
import time_machine
from ranking_notice_helpers import ISSUE_DAY, build_ledger, publish_county_ranking
from sqlalchemy import func, select
from web_fixtures import csrf_token

from ledger.core.models import Notice, Notification, User
from ledger.results import rankings

TITLE = "关于2026年下半年乡镇观摩评议排名情况的通报"


@pytest.fixture
def county(sanhu, world):
    with time_machine.travel(ISSUE_DAY, tick=True):
        setup = publish_county_ranking(sanhu, world)
        setup["items"] = build_ledger(sanhu, world)
        setup["page"] = f"/results/cycles/{setup['cycle']}/ranking"
        yield setup


def post_notice(client, ranking_id, page, **data):
    return client.post(f"/results/rankings/{ranking_id}/notice",
                       data={"csrf_token": csrf_token(client, page), **data})


def notices(sanhu) -> int:
    with sanhu.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(Notice))


def text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def test_the_county_issues_the_notice_and_prints_it(signed_in, sanhu, world, county):
    staff = signed_in("county_K1")
    page = text(staff.get(county["page"]))
    assert 'id="ranking-notice-form"' in page and TITLE in page
    body = re.search(r'<textarea[^>]*name="body"[^>]*>([^<]*)</textarea>', page).group(1)
    assert body.startswith("根据2026年下半年乡镇观摩评议结果")
    sent = post_notice(staff, county["ranking"], county["page"], title=TITLE, body=body)
    assert sent.status_code == 302 and "/board/notices/" in sent.headers["Location"]
    printed = text(staff.get(sent.headers["Location"]))
    assert 'id="notice-number">2026年第4季度第1号<' in printed
    assert f'id="notice-title">{TITLE}<' in printed and body in printed
    assert "已印发通报排名（2026年第4季度第1号）。" in printed
    rows = re.findall(r'<tr class="notice-row".*?</tr>', printed, re.S)
    assert len(rows) == 2 and "乡11" in rows[0] and "乡12" in rows[1]
    for row, cells in ((rows[0], ("2", "1", "50.0%", "1", "1")),
                       (rows[1], ("1", "0", "0.0%", "1", "0"))):
        got = [re.search(rf'class="text-end {c}">([^<]*)<', row).group(1)
               for c in ("found", "closed", "rate", "overdue", "reopened")]
        assert tuple(got) == cells
    total = re.search(r'id="notice-total">.*?</tr>', printed, re.S).group(0)
    assert "合计" in total and '"text-end rate">33.3%<' in total
    assert "中间" in rows[0] and "名次" in printed and "整改率" in printed
    assert 'id="notice-issuer">县1 · county_K1<' in printed and "data-print" in printed
    assert "2026年11月20日" in printed
    listed = text(staff.get("/board/notices"))
    assert "通报排名" in listed and TITLE in listed
    # the ranking page links the notice and offers no second one
    page = text(staff.get(county["page"]))
    assert 'id="ranking-notice-link"' in page and 'id="ranking-notice-form"' not in page
    assert post_notice(staff, county["ranking"], county["page"], title=TITLE,
                       body="再发一次").status_code == 409
    assert notices(sanhu) == 1


def test_the_townships_staff_find_it_in_their_inbox(signed_in, sanhu, world, county):
    staff = signed_in("county_K1")
    sent = post_notice(staff, county["ranking"], county["page"], title=TITLE, body="通报如下。")
    town = signed_in("town_T12")
    inbox = text(town.get("/inbox/"))
    assert f"通报排名:{TITLE}" in inbox
    with sanhu.uow() as uow:
        note_id = uow.session.scalar(select(Notification.id).join(
            User, User.id == Notification.user_id).where(User.username == "town_T12"))
    followed = town.get(f"/inbox/{note_id}/open")
    assert followed.status_code == 302
    assert followed.headers["Location"].endswith(sent.headers["Location"])
    assert town.get(followed.headers["Location"]).status_code == 200


def test_who_may_read_the_printed_notice(signed_in, sanhu, world, county):
    sent = post_notice(signed_in("county_K1"), county["ranking"], county["page"], title=TITLE,
                       body="通报如下。")
    where = sent.headers["Location"]
    for who in ("county_K1", "sup_K1", "city", "sup_city", "town_T11", "town_T12"):
        client = signed_in(who)
        assert client.get(where).status_code == 200, who
        assert TITLE in text(client.get("/board/notices")), who
    for who in ("town_T21", "county_K2", "sec_V111", "sec_V121"):
        client = signed_in(who)
        assert client.get(where).status_code == 404, who
        assert TITLE not in text(client.get("/board/notices")), who


def test_bad_input_is_refused_with_a_reason_and_the_text_kept(signed_in, sanhu, world, county):
    staff = signed_in("county_K1")
    empty = post_notice(staff, county["ranking"], county["page"], title="  ",
                        body="保留的正文")
    assert empty.status_code == 400
    page = text(empty)
    assert "请填写通报标题。" in page and ">保留的正文</textarea>" in page
    long = post_notice(staff, county["ranking"], county["page"], title="保留的标题",
                       body="文" * 20001)
    assert long.status_code == 400
    page = text(long)
    assert "通报正文不能超过 20000 个字。" in page and 'value="保留的标题"' in page
    no_token = staff.post(f"/results/rankings/{county['ranking']}/notice",
                          data={"title": TITLE, "body": "x"})
    assert no_token.status_code == 400
    # other units and roles
    for who, status in (("county_K2", 404), ("town_T11", 404), ("city", 403),
                        ("sup_K1", 403)):
        refused = post_notice(signed_in(who), county["ranking"], "/", title=TITLE, body="x")
        assert refused.status_code == status, who
    with sanhu.uow() as uow:
        draft = rankings.compute(uow, county["cycle"], world["county_K1"], reason="分数更正")
    refused = post_notice(staff, draft.id, county["page"], title=TITLE, body="x")
    assert refused.status_code == 409
    assert "只有已公示的排名才能通报" in text(refused)
    assert notices(sanhu) == 0
