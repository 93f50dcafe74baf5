"""The overdue board, the supervision records and the acts over the API: what each role
sees, the privacy of acts over several villages, If-Match on every act, and refusals."""

from __future__ import annotations

import datetime as dt

from supervision_helpers import make_overdue, number


def act(api, item_id: int, action: str, body: dict, etag: str | None = None):
    tag = etag or api.etag(f"/api/v1/items/{item_id}")
    return api.post(f"/api/v1/items/{item_id}/supervision/{action}", json=body,
                    headers={"If-Match": tag})


INTERVIEW = {"held_at": "2026-11-20T09:30", "place": "乡12会议室", "interviewer": "李组长",
             "interviewee": "赵书记", "interviewee_post": "村121党支部书记",
             "reason": "村121整改逾期且多次退回", "minutes": "纪要内容:村121表态"}


def test_the_board_lists_the_overdue_items_of_the_callers_area(sanhu, world, api_as):
    a = make_overdue(sanhu, world, "V111")
    b = make_overdue(sanhu, world, "V121", "town_T12", days_ago=60)
    other = make_overdue(sanhu, world, "V211", "town_T21")
    board = api_as("sup_K1").get("/api/v1/board")
    assert board.status_code == 200, board.get_data(as_text=True)
    rows = board.json["items"]
    assert [r["id"] for r in rows] == [b, a]  # most days overdue first; K2's item absent
    assert rows[0]["number"] == number(sanhu, b) and "urge" in rows[0]["suggestions"]
    assert board.json["total"] == 2 and "interview" in board.json["actions"]
    city = api_as("sup_city")
    assert [r["id"] for r in city.get(f"/api/v1/board?unit={world.units['T11'].id}")
            .json["items"]] == [a]
    assert other in [r["id"] for r in city.get("/api/v1/board?per_page=200").json["items"]]
    assert [r["id"] for r in city.get("/api/v1/board?min_days=45").json["items"]] == [b]


def test_the_board_refuses_other_areas_other_roles_and_bad_filters(world, api_as):
    outside = api_as("sup_K1").get(f"/api/v1/board?unit={world.units['T21'].id}")
    assert outside.status_code == 404
    assert outside.json["type"] == "/api/v1/problems/not-found"
    for name in ("sec_V111", "town_T11"):
        refused = api_as(name).get("/api/v1/board")
        assert refused.status_code == 403
        assert refused.json["type"] == "/api/v1/problems/forbidden"
    bad = api_as("sup_K1").get("/api/v1/board?sort=nope&per_page=999")
    assert bad.status_code == 422 and {"sort", "per_page"} <= set(bad.json["errors"])


def test_urging_needs_if_match_and_a_stale_one_gets_the_current_item(any_sanhu, any_world,
                                                                      any_api_as):
    sanhu, world, api_as = any_sanhu, any_world, any_api_as
    item_id = make_overdue(sanhu, world, "V111")
    sup = api_as("sup_K1")
    path = f"/api/v1/items/{item_id}/supervision/urge"
    missing = sup.post(path, json={"note": "请抓紧"})
    assert missing.status_code == 428
    assert missing.json["type"] == "/api/v1/problems/precondition-required"
    tag = sup.etag(f"/api/v1/items/{item_id}")
    urged = act(sup, item_id, "urge", {"note": "请抓紧"}, tag)
    assert urged.status_code == 201, urged.get_data(as_text=True)
    assert urged.json["item"]["supervision"]["urged"] == 1
    assert urged.headers["ETag"] == f'"{urged.json["item"]["version"]}"' != tag
    record = sup.get(urged.headers["Location"])
    assert record.status_code == 200 and record.json["kind"] == "urge"
    assert record.json["item_ids"] == [item_id] and record.json["details"]["note"] == "请抓紧"

    stale = act(sup, item_id, "urge", {"note": "再催"}, tag)
    assert stale.status_code == 412
    assert stale.json["current"]["version"] == urged.json["item"]["version"]
    # urged today: again only when confirmed
    again = act(sup, item_id, "urge", {"note": "再催"})
    assert again.status_code == 409 and again.json["code"] == "recently_urged"
    assert again.json["urged"][0]["item_id"] == item_id
    confirmed = act(sup, item_id, "urge", {"note": "再催", "confirm": True})
    assert confirmed.status_code == 201
    assert confirmed.json["item"]["supervision"]["urged"] == 2


def test_acts_are_refused_outside_the_area_for_other_roles_and_with_wrong_inputs(
        sanhu, world, api_as):
    item_id = make_overdue(sanhu, world, "V111")
    tag = api_as("town_T11").etag(f"/api/v1/items/{item_id}")
    outside = api_as("sup_K2").post(f"/api/v1/items/{item_id}/supervision/urge", json={},
                                    headers={"If-Match": tag})
    assert outside.status_code == 404
    # county staff may urge but not interview; a township never acts
    county = act(api_as("county_K1"), item_id, "interview", INTERVIEW, tag)
    assert county.status_code == 403 and county.json["type"] == "/api/v1/problems/forbidden"
    assert act(api_as("town_T11"), item_id, "urge", {}, tag).status_code == 403
    sup = api_as("sup_K1")
    assert act(sup, item_id, "nope", {}, tag).status_code == 404
    wrong = act(sup, item_id, "inquiry", {"question": "为何逾期?", "title": "x"}, tag)
    assert wrong.status_code == 422 and "title" in wrong.json["errors"]
    missing = act(sup, item_id, "listing", {"reason": "屡催不改"}, tag)
    assert missing.status_code == 422 and "term_until" in missing.json["errors"]


def test_a_record_over_two_villages_hides_the_other_village_from_a_secretary(
        any_sanhu, any_world, any_api_as):
    sanhu, world, api_as = any_sanhu, any_world, any_api_as
    a, b = make_overdue(sanhu, world, "V111"), make_overdue(sanhu, world, "V121", "town_T12")
    sup = api_as("sup_K1")
    # the API acts on one item at a time; the page's act over both makes the shared record
    from ledger.supervision import acts

    with sanhu.uow() as uow:
        result = acts.record_interview(uow, [a, b], world["sup_K1"], **INTERVIEW)
    full = sup.get(f"/api/v1/supervision/records/{result.record_id}").json
    assert full["complete"] and full["item_ids"] == sorted([a, b])
    assert full["details"]["interviewee"] == "赵书记"

    secretary = api_as("sec_V111")
    seen = secretary.get(f"/api/v1/supervision/records/{result.record_id}")
    assert seen.status_code == 200
    assert not seen.json["complete"] and seen.json["item_ids"] == [a]
    text = seen.get_data(as_text=True)
    assert all(word not in text for word in ("赵书记", "村121", "乡12会议室", "纪要内容"))
    listed = secretary.get("/api/v1/supervision/records").json["records"]
    assert [r["id"] for r in listed] == [result.record_id]
    assert "赵书记" not in str(listed)
    assert api_as("sec_V112").get(
        f"/api/v1/supervision/records/{result.record_id}").status_code == 404
    assert api_as("sec_V112").get("/api/v1/supervision/records").json["records"] == []


def test_an_inquiry_is_answered_and_a_listing_lifted_through_record_changes(
        sanhu, world, api_as):
    item_id = make_overdue(sanhu, world, "V111")
    sup, city_sup = api_as("sup_K1"), api_as("sup_city")
    asked = act(sup, item_id, "inquiry", {"question": "为何逾期?", "reply_due": "2099-01-01"})
    assert asked.status_code == 422  # beyond the calendar's bounds
    asked = act(sup, item_id, "inquiry", {"question": "为何逾期?"})
    assert asked.status_code == 201, asked.get_data(as_text=True)
    record_id = asked.json["record_id"]
    assert sup.get(f"/api/v1/supervision/records/{record_id}").json["changes"] == ["reply"]
    path = f"/api/v1/supervision/records/{record_id}"
    assert api_as("county_K1").post(f"{path}/reply", json={"reply": "x", "replied_by": "y"}
                                    ).status_code == 403
    assert api_as("sup_K2").post(f"{path}/reply", json={"reply": "x", "replied_by": "y"}
                                 ).status_code == 404
    replied = sup.post(f"{path}/reply", json={"reply": "已整改", "replied_by": "村111"})
    assert replied.status_code == 200, replied.get_data(as_text=True)
    assert replied.json["status"] == "replied" and replied.json["changes"] == []
    twice = sup.post(f"{path}/reply", json={"reply": "又一次", "replied_by": "村111"})
    assert twice.status_code == 409

    listed = act(sup, item_id, "listing", {"reason": "屡催不改", "term_until": _future()})
    assert listed.status_code == 201, listed.get_data(as_text=True)
    listing = f"/api/v1/supervision/records/{listed.json['record_id']}"
    asked_lift = sup.post(f"{listing}/lift_request", json={"reason": "已整改到位"})
    assert asked_lift.status_code == 200 and asked_lift.json["status"] == "lift_requested"
    assert asked_lift.json["changes"] == []  # never approved by whoever asked
    assert city_sup.get(listing).json["changes"] == ["lift_approve", "lift_deny"]
    lifted = city_sup.post(f"{listing}/lift_approve", json={})
    assert lifted.status_code == 200 and lifted.json["status"] == "lifted"
    assert sup.get("/api/v1/supervision/records?kind=listing&status=lifted"
                   ).json["records"][0]["id"] == listed.json["record_id"]


def _future() -> str:
    return (dt.date.today() + dt.timedelta(days=30)).isoformat()


def test_records_come_in_cursor_pages(sanhu, world, api_as):
    item_id = make_overdue(sanhu, world, "V111")
    sup = api_as("sup_K1")
    ids = [act(sup, item_id, "inquiry", {"question": f"问题{n}"}).json["record_id"]
           for n in range(3)]
    first = sup.get(f"/api/v1/supervision/records?item={item_id}&limit=2").json
    assert [r["id"] for r in first["records"]] == ids[::-1][:2]
    rest = sup.get(f"/api/v1/supervision/records?item={item_id}&limit=2"
                   f"&cursor={first['next_cursor']}").json
    assert [r["id"] for r in rest["records"]] == [ids[0]] and rest["next_cursor"] is None


def test_a_notice_is_numbered_and_only_supervisors_issue_it(sanhu, world, api_as):
    item_id = make_overdue(sanhu, world, "V111")
    assert act(api_as("county_K1"), item_id, "notice", {"title": "通报", "body": "正文"}
               ).status_code == 403
    issued = act(api_as("sup_K1"), item_id, "notice", {"title": "关于逾期整改的通报",
                                                       "body": "村111逾期未整改。"})
    assert issued.status_code == 201, issued.get_data(as_text=True)
    assert issued.json["notice_id"] and "号" in issued.json["number"]
    assert issued.json["item"]["supervision"]["notices"] == [issued.json["number"]]
    assert "Location" not in issued.headers  # a notice is no supervision record
