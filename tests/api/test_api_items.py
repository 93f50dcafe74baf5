"""The items API: the journey of one problem over HTTP, and every refusal on the way."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

from samples import make_png


def _record(api, unit_id: int, text: str = "活动室制度未上墙", **extra):
    response = api.post("/api/v1/items", json={"unit_id": unit_id, "description": text, **extra})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response


def test_a_request_without_a_token_is_refused_with_a_problem(client):
    response = client.get("/api/v1/items")
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    assert response.json["type"] == "/api/v1/problems/unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_token_is_refused(client):
    response = client.get("/api/v1/items", headers={"Authorization": "Bearer sanhu_nope"})
    assert response.status_code == 401
    assert "<html" not in response.get_data(as_text=True).lower()


def test_the_whole_journey_of_a_problem_over_the_api(any_api_as, any_world):
    api_as, world = any_api_as, any_world
    town, sec, county = api_as("town_T11"), api_as("sec_V111"), api_as("county_K1")
    village = world.units["V111"].id
    created = _record(town, village)
    item = created.json
    assert created.headers["ETag"] == f'"{item["version"]}"'
    assert created.headers["Location"].endswith(f"/api/v1/items/{item['id']}")
    assert item["status"] == "found" and "assign" in item["events"]

    assigned = town.fire(item["id"], "assign", {"responsible_user_id": world["sec_V111"].id,
                                                "category": "deadline", "deadline": "10个工作日"})
    assert assigned.status_code == 200, assigned.get_data(as_text=True)
    assert assigned.json["status"] == "assigned" and assigned.json["deadline"]

    events = sec.get(f"/api/v1/items/{item['id']}/events").json["events"]
    assert "accept" in events
    assert sec.fire(item["id"], "accept", {"measures": "本周内上墙"}).status_code == 200

    upload = sec.client.post("/api/v1/uploads", headers=sec.headers(),
                             data={"file": (io.BytesIO(make_png()), "after.png")},
                             content_type="multipart/form-data")
    assert upload.status_code == 201, upload.get_data(as_text=True)
    submitted = sec.fire(item["id"], "submit",
                         {"note": "已上墙", "uploads": [upload.json["upload"]]})
    assert submitted.status_code == 200, submitted.get_data(as_text=True)
    assert submitted.json["status"] == "submitted"
    evidence = submitted.json["evidence"]
    assert [e["name"] for e in evidence] == ["after.png"] and evidence[0]["mime"] == "image/png"

    download = county.get(evidence[0]["download"])
    assert download.status_code == 200 and download.data == make_png()
    download.close()

    assert town.fire(item["id"], "verify", {"method": "onsite", "note": "已核实"}
                     ).status_code == 200
    closed = county.fire(item["id"], "close", {})
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    assert [h["event"] for h in closed.json["history"]] == [
        "record", "assign", "accept", "submit", "verify", "close"]


def test_a_change_without_if_match_is_428_and_a_stale_one_412_with_the_current_item(
        api_as, world):
    town = api_as("town_T11")
    item = _record(town, world.units["V111"].id).json
    path = f"/api/v1/items/{item['id']}/events/assign"
    body = {"responsible_user_id": world["sec_V111"].id, "category": "deadline",
            "deadline": "10d"}
    missing = town.post(path, json=body)
    assert missing.status_code == 428
    assert missing.json["type"] == "/api/v1/problems/precondition-required"
    stale_tag = f'"{item["version"]}"'
    assert town.post(path, json=body, headers={"If-Match": stale_tag}).status_code == 200
    again = town.post(f"/api/v1/items/{item['id']}/events/reassign",
                      json={"reason": "换人", "responsible_user_id": world["sec_V111"].id},
                      headers={"If-Match": stale_tag})
    assert again.status_code == 412
    assert again.json["current"]["status"] == "assigned"
    assert again.headers["ETag"] == f'"{again.json["current"]["version"]}"'


def test_items_outside_the_area_are_404_everywhere(api_as, world):
    town = api_as("town_T11")
    item = _record(town, world.units["V111"].id).json
    other = api_as("sec_V112")
    for response in (other.get(f"/api/v1/items/{item['id']}"),
                     other.get(f"/api/v1/items/{item['id']}/events"),
                     other.fire(item["id"], "accept", {"measures": "x"}, etag='"1"')):
        assert response.status_code == 404, response.get_data(as_text=True)
        assert response.json["type"] == "/api/v1/problems/not-found"
    listed = other.get("/api/v1/items").json["items"]
    assert item["id"] not in [i["id"] for i in listed]


def test_a_role_that_may_not_fire_an_event_gets_403_and_a_wrong_state_409(api_as, world):
    town, sec = api_as("town_T11"), api_as("sec_V111")
    item = _record(town, world.units["V111"].id).json
    refused = sec.fire(item["id"], "assign", {"responsible_user_id": world["sec_V111"].id,
                                              "category": "deadline", "deadline": "10d"})
    assert refused.status_code in (403, 404)
    wrong = town.fire(item["id"], "close", {})
    assert wrong.status_code in (403, 409)
    assert wrong.content_type == "application/problem+json"


def test_bad_input_answers_422_with_field_messages(api_as, world):
    town = api_as("town_T11")
    response = town.post("/api/v1/items", json={"unit_id": "x", "description": ""})
    assert response.status_code == 422
    assert set(response.json["errors"]) >= {"unit_id", "description"}
    item = _record(town, world.units["V111"].id).json
    unknown = town.fire(item["id"], "assign", {"responsible_user_id": world["sec_V111"].id,
                                               "category": "deadline", "deadline": "去年"})
    assert unknown.status_code == 422 and "deadline" in unknown.json["errors"]


def test_pulling_changes_since_a_time_with_cursor_pages(any_api_as, any_world):
    api_as, world = any_api_as, any_world
    town = api_as("town_T11")
    ids = [_record(town, world.units["V111"].id, f"问题{i}").json["id"] for i in range(5)]
    seen, cursor = [], None
    while True:
        args = "limit=2&updated_since=2000-01-01T00:00:00%2B00:00"
        page = town.get(f"/api/v1/items?{args}" + (f"&cursor={cursor}" if cursor else "")).json
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ids
    dismissed = api_as("county_K1").fire(ids[0], "dismiss", {"kind": "duplicate",
                                                             "reason": "重复"})
    assert dismissed.status_code == 200, dismissed.get_data(as_text=True)
    later = town.get(f"/api/v1/items?updated_since={_quoted(town, ids[4])}").json["items"]
    assert [i["id"] for i in later][-1] == ids[0]


def _quoted(api, item_id: int) -> str:
    from urllib.parse import quote
    return quote(api.get(f"/api/v1/items/{item_id}").json["updated_at"])


def test_recording_twice_with_one_idempotency_key_records_once(api_as, world):
    town = api_as("town_T11")
    body = {"unit_id": world.units["V111"].id, "description": "重复提交",
            "idempotency_key": "k" * 20}
    first = town.post("/api/v1/items", json=body)
    second = town.post("/api/v1/items", json=body)
    assert first.status_code == 201 and second.status_code == 200
    assert first.json["id"] == second.json["id"]


def test_the_list_takes_the_ledger_lists_filters(api_as, world):
    town = api_as("town_T11")
    mine = _record(town, world.units["V111"].id, "围墙破损").json
    _record(town, world.units["V112"].id, "档案缺失")
    by_unit = town.get(f"/api/v1/items?unit={world.units['V111'].id}").json["items"]
    assert [i["id"] for i in by_unit] == [mine["id"]]
    by_text = town.get("/api/v1/items?q=围墙").json["items"]
    assert [i["id"] for i in by_text] == [mine["id"]]
    local = dt.datetime.fromisoformat(mine["created_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    month = f"{local:%Y-%m}"
    assert len(town.get(f"/api/v1/items?found_month={month}").json["items"]) == 2
    assert town.get("/api/v1/items?found_month=1999-01").json["items"] == []
    assert town.get("/api/v1/items?status=closed").json["items"] == []
    bad = town.get("/api/v1/items?status=nonsense&standard_category=x-1")
    assert bad.status_code == 422 and {"status", "standard_category"} <= set(bad.json["errors"])
    assert town.get("/api/v1/items?standard_category=basic-3").status_code == 200


def test_overdue_items_come_in_id_order_page_by_page(any_sanhu, any_world, any_api_as):
    from supervision_helpers import make_overdue

    overdue = [make_overdue(any_sanhu, any_world, unit) for unit in ("V111", "V112", "V111")]
    _record(any_api_as("town_T11"), any_world.units["V111"].id, "未逾期")
    county = any_api_as("county_K1")
    seen, cursor = [], None
    while True:
        page = county.get("/api/v1/items?overdue=true&limit=1"
                          + (f"&cursor={cursor}" if cursor else "")).json
        seen += [i["id"] for i in page["items"]]
        assert all(i["overdue"] and i["light"] == "red" for i in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(overdue)
    red = county.get("/api/v1/items?light=red").json["items"]
    assert [i["id"] for i in red] == sorted(overdue)
