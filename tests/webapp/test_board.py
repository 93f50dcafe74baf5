"""The overdue board and supervision pages through the Flask test client."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select
from web_fixtures import csrf_token

from ledger.core.models import Item, ItemEvent, Notice, SupervisionRecord
from ledger.items import services as svc
from ledger.supervision import acts as sup


def make_overdue(app, world, unit="V111", who="town_T11", days_ago=40) -> int:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)
    with app.uow(clock=lambda: start) as uow:
        item = svc.record_finding(uow, world[who], unit_id=world.units[unit].id,
                                  description=f"{unit} 制度未上墙")
    with app.uow(clock=lambda: start) as uow:
        svc.assign(uow, item.id, world[who], responsible_user_id=world[f"sec_{unit}"].id,
                   category="deadline", deadline="10d")
    return item.id


@pytest.fixture
def items(sanhu, world):
    """Two overdue items in county K1 and one in K2."""
    return {"a": make_overdue(sanhu, world, "V111"),
            "b": make_overdue(sanhu, world, "V121", "town_T12", days_ago=60),
            "other": make_overdue(sanhu, world, "V211", "town_T21")}


def number(sanhu, item_id) -> str:
    with sanhu.uow() as uow:
        return uow.session.get(Item, item_id).number


def events(sanhu, item_id) -> list[str]:
    with sanhu.uow() as uow:
        return list(uow.session.scalars(select(ItemEvent.event).where(
            ItemEvent.item_id == item_id).order_by(ItemEvent.seq)))


def post_act(client, action, ids, data):
    token = csrf_token(client, f"/board/act?action={action}&ids={ids[0]}")
    return client.post(f"/board/act/{action}", data={"csrf_token": token, "ids": ids, **data})


def test_the_board_lists_overdue_items_in_scope_with_suggestions(sanhu, world, signed_in,
                                                                 items):
    html = signed_in("sup_K1").get("/board/").get_data(as_text=True)
    assert number(sanhu, items["a"]) in html and number(sanhu, items["b"]) in html
    assert number(sanhu, items["other"]) not in html
    assert "逾期督办" in html and 'data-rung="urge"' in html
    # most days overdue first; filters are kept in the form
    assert html.index(number(sanhu, items["b"])) < html.index(number(sanhu, items["a"]))
    html = signed_in("sup_city").get("/board/?min_days=45&sort=unit").get_data(as_text=True)
    assert number(sanhu, items["b"]) in html and number(sanhu, items["a"]) not in html
    assert 'name="min_days" value="45"' in html
    assert '<option value="unit" selected>' in html
    html = signed_in("sup_city").get(f"/board/?unit={world.units['T11'].id}").get_data(
        as_text=True)
    assert number(sanhu, items["a"]) in html and number(sanhu, items["b"]) not in html
    assert signed_in("sup_K1").get(f"/board/?unit={world.units['T21'].id}").status_code == 404


def test_the_menu_offers_the_board_to_supervisors_and_staff_above_only(signed_in):
    assert "/board/" in signed_in("sup_K1").get("/").get_data(as_text=True)
    assert "/board/" in signed_in("county_K1").get("/").get_data(as_text=True)
    assert "/board/" not in signed_in("town_T11").get("/").get_data(as_text=True)


@pytest.mark.parametrize("who", ["town_T11", "sec_V111", "admin"])
def test_other_roles_are_refused_the_board(signed_in, who):
    assert signed_in(who).get("/board/").status_code == 403


def test_county_staff_see_only_the_urge_action(sanhu, signed_in, items):
    client = signed_in("county_K1")
    html = client.get("/board/").get_data(as_text=True)
    assert 'value="urge"' in html and 'value="interview"' not in html
    assert client.get(f"/board/act?action=interview&ids={items['a']}").status_code == 403
    assert post_act(client, "urge", [items["a"]], {"note": "抓紧"}).status_code == 200
    token = csrf_token(client, f"/board/act?action=urge&ids={items['a']}")
    response = client.post("/board/act/notice", data={"csrf_token": token, "ids": [items["a"]],
                                                      "title": "t", "body": "b"})
    assert response.status_code == 403


def test_urging_from_the_board_reports_each_item(sanhu, world, signed_in, items):
    client = signed_in("sup_K1")
    page = client.get(f"/board/act?action=urge&ids={items['a']}&ids={items['b']}")
    html = page.get_data(as_text=True)
    assert number(sanhu, items["a"]) in html and number(sanhu, items["b"]) in html
    response = post_act(client, "urge", [items["a"], items["b"], items["other"]],
                        {"note": "请本周完成"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count('data-ok="yes"') == 2 and html.count('data-ok="no"') == 1
    assert number(sanhu, items["other"]) not in html  # not named: outside the scope
    assert events(sanhu, items["a"])[-1] == "urge"
    assert events(sanhu, items["other"])[-1] == "assign"


def test_an_interview_form_keeps_values_and_shows_messages_beside_fields(sanhu, signed_in,
                                                                        items):
    client = signed_in("sup_K1")
    response = post_act(client, "interview", [items["a"]], {
        "held_at": "2026-11-20T09:30", "place": "", "interviewer": "李组长",
        "interviewee": "王书记", "interviewee_post": "村党支部书记", "reason": "逾期",
        "minutes": "纪要内容保留"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "此项为必填项" in html
    assert 'value="李组长"' in html and "纪要内容保留" in html
    assert events(sanhu, items["a"])[-1] == "assign"
    response = post_act(client, "interview", [items["a"]], {
        "held_at": "2026-11-20T09:30", "place": "会议室", "interviewer": "李组长",
        "interviewee": "王书记", "interviewee_post": "村党支部书记", "reason": "逾期",
        "minutes": "纪要", "outcome": "表态", "follow_up_deadline": "2026-12-31"})
    assert response.status_code == 200
    with sanhu.uow() as uow:
        record = uow.session.scalars(select(SupervisionRecord)).one()
    html = client.get(f"/board/records/{record.id}").get_data(as_text=True)
    assert "王书记" in html and "会议室" in html and "2026年12月31日" in html
    item_page = client.get(f"/items/{items['a']}").get_data(as_text=True)
    assert f"/board/records/{record.id}" in item_page and "约谈" in item_page


def test_a_listing_term_in_the_past_is_refused_beside_the_field(sanhu, signed_in, items):
    client = signed_in("sup_K1")
    response = post_act(client, "listing", [items["a"]],
                        {"reason": "逾期严重", "term_until": "2020-01-01"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "请选择今天以后的日期" in html and "逾期严重" in html


def test_scope_leaks_answer_404(sanhu, world, signed_in, items):
    with sanhu.uow() as uow:
        record = sup.urge(uow, [items["other"]], world["sup_city"]).record_id
        notice = sup.issue_notice(uow, [items["other"]], world["sup_city"], title="t",
                                  body="b").notice_id
    client = signed_in("sup_K1")
    assert client.get(f"/board/records/{record}").status_code == 404
    assert client.get(f"/board/notices/{notice}").status_code == 404
    assert client.get(f"/board/act?action=urge&ids={items['other']}").status_code == 404
    token = csrf_token(client, f"/board/act?action=urge&ids={items['a']}")
    assert client.post("/board/act/urge", data={"csrf_token": token,
                                                "ids": [items["other"]]}).status_code == 404
    assert client.post(f"/board/records/{record}/lift_request",
                       data={"csrf_token": token, "reason": "x"}).status_code == 404
    assert client.get("/board/records/999999").status_code == 404
    assert notice_listed(client) == []


def notice_listed(client) -> list[str]:
    return re.findall(r'href="/board/notices/(\d+)"', client.get("/board/notices").get_data(
        as_text=True))


def test_an_inquiry_and_its_reply_through_the_pages(sanhu, signed_in, items):
    client = signed_in("sup_K1")
    post_act(client, "inquiry", [items["a"]], {"question": "请说明逾期原因"})
    with sanhu.uow() as uow:
        record_id = uow.session.scalar(select(SupervisionRecord.id))
    html = client.get(f"/board/records/{record_id}").get_data(as_text=True)
    assert "请说明逾期原因" in html and "reply-form" in html
    token = csrf_token(client, f"/board/records/{record_id}")
    bad = client.post(f"/board/records/{record_id}/reply",
                      data={"csrf_token": token, "reply": "", "replied_by": "城关镇党委"})
    assert bad.status_code == 400 and 'value="城关镇党委"' in bad.get_data(as_text=True)
    ok = client.post(f"/board/records/{record_id}/reply",
                     data={"csrf_token": token, "reply": "资金已到位", "replied_by": "城关镇党委"})
    assert ok.status_code == 302
    html = client.get(f"/board/records/{record_id}").get_data(as_text=True)
    assert "资金已到位" in html and "reply-form" not in html
    assert events(sanhu, items["a"])[-2:] == ["inquiry", "inquiry_reply"]
    # the village secretary sees the record of their item, without forms
    secretary = signed_in("sec_V111")
    html = secretary.get(f"/board/records/{record_id}").get_data(as_text=True)
    assert "资金已到位" in html
    assert secretary.post(f"/board/records/{record_id}/reply",
                          data={"csrf_token": csrf_token(secretary, "/"), "reply": "x",
                                "replied_by": "y"}).status_code == 403


def test_lifting_a_listing_needs_someone_else_to_approve(sanhu, world, signed_in, items):
    sup_k1, county = signed_in("sup_K1"), signed_in("county_K1")
    post_act(sup_k1, "listing", [items["a"]], {"reason": "逾期严重", "term_until":
                                              (dt.date.today() + dt.timedelta(30)).isoformat()})
    with sanhu.uow() as uow:
        record_id = uow.session.scalar(select(SupervisionRecord.id))
    url = f"/board/records/{record_id}"
    assert "lift-request-form" in sup_k1.get(url).get_data(as_text=True)
    assert "lift-request-form" not in county.get(url).get_data(as_text=True)
    token = csrf_token(sup_k1, url)
    assert sup_k1.post(f"{url}/lift_request", data={"csrf_token": token,
                                                    "reason": "已整改"}).status_code == 302
    assert "lift-approve-form" not in sup_k1.get(url).get_data(as_text=True)
    assert sup_k1.post(f"{url}/lift_approve", data={"csrf_token": token}).status_code == 403
    assert signed_in("county_K2").get(url).status_code == 404
    assert "lift-approve-form" in county.get(url).get_data(as_text=True)
    assert county.post(f"{url}/lift_approve", data={"csrf_token": csrf_token(county, url),
                                                    "note": "同意"}).status_code == 302
    assert "摘牌" in county.get(url).get_data(as_text=True)
    assert events(sanhu, items["a"])[-3:] == ["listing", "lift_requested", "listing_lifted"]


def test_a_lift_request_can_be_denied_and_the_listing_stays(sanhu, world, signed_in, items):
    sup_k1, county = signed_in("sup_K1"), signed_in("county_K1")
    post_act(sup_k1, "listing", [items["a"]], {"reason": "逾期严重", "term_until":
                                              (dt.date.today() + dt.timedelta(30)).isoformat()})
    with sanhu.uow() as uow:
        record_id = uow.session.scalar(select(SupervisionRecord.id))
    url = f"/board/records/{record_id}"
    sup_k1.post(f"{url}/lift_request", data={"csrf_token": csrf_token(sup_k1, url),
                                             "reason": "已整改"})
    assert "lift-deny-form" not in sup_k1.get(url).get_data(as_text=True)  # not their own
    token = csrf_token(county, url)
    refused = county.post(f"{url}/lift_deny", data={"csrf_token": token, "reason": ""})
    assert refused.status_code == 400 and "lift-deny-form" in refused.get_data(as_text=True)
    assert county.post(f"{url}/lift_deny", data={"csrf_token": token,
                                                 "reason": "整改未到位"}).status_code == 302
    with sanhu.uow() as uow:
        assert uow.session.get(SupervisionRecord, record_id).status == "active"
    assert events(sanhu, items["a"])[-3:] == ["listing", "lift_requested", "lift_denied"]
    assert "lift-request-form" in sup_k1.get(url).get_data(as_text=True)  # may ask again


def test_a_notice_is_issued_and_printable(sanhu, world, signed_in, items):
    client = signed_in("sup_city")
    response = post_act(client, "notice", [items["a"], items["b"]],
                        {"title": "关于逾期问题的通报", "body": "予以通报批评。"})
    html = response.get_data(as_text=True)
    with sanhu.uow() as uow:
        notice = uow.session.scalars(select(Notice)).one()
    assert notice.number in html
    page = client.get(f"/board/notices/{notice.id}").get_data(as_text=True)
    assert 'media="print"' in page and "css/print.css" in page
    assert notice.number in page and "关于逾期问题的通报" in page
    assert "县1 › 乡11 › 村111" in page and "县1 › 乡12 › 村121" in page
    assert number(sanhu, items["a"]) in page and "data-print" in page
    assert "<script>" not in page and 'style="' not in page
    assert notice_listed(client) == [str(notice.id)]
    english = client.post("/language", data={"csrf_token": csrf_token(client, "/"),
                                              "lang": "en"})
    assert english.status_code in (302, 303)
    page = client.get(f"/board/notices/{notice.id}").get_data(as_text=True)
    assert f"{notice.year} Q{notice.quarter} No. {notice.serial}" in page
    # the secretary of one village sees the notice with their item only
    secretary = signed_in("sec_V111")
    page = secretary.get(f"/board/notices/{notice.id}").get_data(as_text=True)
    assert number(sanhu, items["a"]) in page and number(sanhu, items["b"]) not in page
    assert f"/board/notices/{notice.id}" in secretary.get(f"/items/{items['a']}").get_data(
        as_text=True)


def close_item(sanhu, world, item_id) -> None:
    """Take an item of V111 through rectification, verification and 销号."""
    from samples import make_png

    with sanhu.uow() as uow:
        svc.accept(uow, item_id, world["sec_V111"], measures="立即整改")
    with sanhu.uow() as uow:
        svc.submit(uow, item_id, world["sec_V111"], note="已完成",
                   uploads=[svc.Upload(make_png(), "a.png")])
    with sanhu.uow() as uow:
        svc.verify(uow, item_id, world["town_T11"], method="实地查看", note="属实")
    with sanhu.uow() as uow:
        svc.close(uow, item_id, world["county_K1"])


def offered_acts(html: str) -> list[str]:
    return re.findall(r'href="/board/act\?action=(\w+)&amp;ids=\d+"', html)


def test_a_closed_item_offers_no_supervision_and_the_acts_are_refused(sanhu, world, signed_in,
                                                                     items):
    client = signed_in("sup_K1")
    assert offered_acts(client.get(f"/items/{items['a']}").get_data(as_text=True)) == list(
        sup.BOARD_ACTIONS)
    close_item(sanhu, world, items["a"])
    html = client.get(f"/items/{items['a']}").get_data(as_text=True)
    assert "已销号" in html and offered_acts(html) == []
    assert number(sanhu, items["a"]) not in client.get("/board/").get_data(as_text=True)
    # a form opened before the item was closed is refused, with the reason
    term = (dt.date.today() + dt.timedelta(30)).isoformat()
    for action, data in [
            ("urge", {"note": "抓紧", "confirm": "1"}),
            ("interview", {"held_at": "2026-11-20T09:30", "place": "会议室",
                           "interviewer": "李组长", "interviewee": "王书记",
                           "interviewee_post": "村党支部书记", "reason": "逾期"}),
            ("inquiry", {"question": "请说明逾期原因"}),
            ("listing", {"reason": "逾期严重", "term_until": term}),
            ("notice", {"title": "通报", "body": "逾期"})]:
        response = post_act(client, action, [items["a"]], data)
        assert response.status_code == 409, action
        assert "该问题已销号，不能再进行督办。" in response.get_data(as_text=True), action
    assert events(sanhu, items["a"])[-1] == "close"
    with sanhu.uow() as uow:
        assert uow.session.scalars(select(SupervisionRecord)).all() == []
        assert uow.session.scalars(select(Notice)).all() == []


def test_urging_again_within_three_days_asks_first_and_says_when_and_by_whom(
        sanhu, world, signed_in, items):
    with sanhu.uow() as uow:
        sup.urge(uow, [items["a"]], world["county_K1"])
        today = uow.today()
    client = signed_in("sup_K1")
    response = post_act(client, "urge", [items["a"]], {"note": "再催一次"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    said = (f"{number(sanhu, items['a'])} "
            f"已于{today.year}年{today.month}月{today.day}日由county_K1催办。")
    assert said in html and "仍要再次催办？" in html
    assert "再催一次" in html  # the message is kept
    assert re.search(r'<input[^>]*name="confirm"[^>]*value="1"', html)
    assert re.search(r'name="csrf_token"[^>]*value="[^"]+"', html)
    assert events(sanhu, items["a"]).count("urge") == 1  # nothing recorded yet
    # the confirmed submit records the act
    response = post_act(client, "urge", [items["a"]], {"note": "再催一次", "confirm": "1"})
    assert response.status_code == 200 and 'data-ok="yes"' in response.get_data(as_text=True)
    assert events(sanhu, items["a"]).count("urge") == 2
    # without the form's token nothing happens
    bare = client.post("/board/act/urge", data={"ids": [items["a"]], "confirm": "1"})
    assert bare.status_code == 400
    assert events(sanhu, items["a"]).count("urge") == 2


def test_an_item_urged_three_days_ago_is_urged_without_asking(sanhu, world, signed_in, items):
    earlier = dt.datetime.now(dt.UTC) - dt.timedelta(days=3, hours=1)
    with sanhu.uow(clock=lambda: earlier) as uow:
        sup.urge(uow, [items["a"]], world["county_K1"])
    response = post_act(signed_in("sup_K1"), "urge", [items["a"]], {"note": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "仍要再次催办" not in html
    assert 'data-ok="yes"' in html
    assert events(sanhu, items["a"]).count("urge") == 2
