"""Observations over the API: the scoped list, the record, the lifecycle with If-Match,
one checklist line saved with its own version, and every refusal on the way."""

from __future__ import annotations

import io

import pytest
from observation_helpers import fill, observation_of, standard_ids
from samples import make_png

from ledger.core.models import Item
from ledger.observations import record
from ledger.observations import services as obs_svc


@pytest.fixture
def obs(sanhu, world) -> int:
    """V111's record of 2026Q4 (planned); every village of the city has one."""
    return observation_of(sanhu, world, "village_quarterly", "2026Q4", "V111")


def path(oid: int, tail: str = "") -> str:
    return f"/api/v1/observations/{oid}{tail}"


def put_line(api, oid: int, standard_id: int, body: dict, etag: str | None):
    headers = {"If-Match": etag} if etag else {}
    return api.client.put(path(oid, f"/lines/{standard_id}"), json=body,
                          headers=api.headers(headers))


def test_a_township_starts_fills_and_confirms_a_record_over_the_api(api_as, sanhu, world, obs):
    town = api_as("town_T11")
    planned = town.get(path(obs))
    assert planned.status_code == 200
    assert planned.headers["ETag"] == f'"{planned.json["version"]}"'
    assert planned.json["status"] == "planned" and planned.json["events"] == ["start"]
    assert planned.json["unit"]["code"] == "V111"
    assert planned.json["observing_unit"]["code"] == "T11"

    started = town.post(path(obs, "/events/start"), json={},
                        headers={"If-Match": planned.headers["ETag"]})
    assert started.status_code == 200, started.get_data(as_text=True)
    assert started.json["status"] == "in_progress" and started.json["editable"] is True
    assert len(started.json["lines"]) == 42 and started.json["open_lines"] == 42
    assert [s["name"] for s in started.json["sections"]][:4] == ["listen", "check", "look",
                                                                 "talk"]
    assert started.json["history"][-1]["event"] == "start"

    sid = standard_ids(sanhu, obs)["basic:2"]
    line_tag = town.etag(path(obs, f"/lines/{sid}"))
    saved = put_line(town, obs, sid, {"result": "fail", "note": "未挂牌", "deduction": 5},
                     line_tag)
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.json["result"] == "fail" and saved.json["deduction"] == 5
    assert saved.headers["ETag"] == f'"{saved.json["version"]}"' != line_tag
    # saving a line does not move the observation's version (its ETag stays good)
    assert town.etag(path(obs)) == started.headers["ETag"]

    fill(sanhu, obs, world["town_T11"])  # the other lines 符合 and one evaluation score
    events = town.get(path(obs, "/events")).json
    assert events["events"] == ["submit"]
    submitted = town.post(path(obs, "/events/submit"), json={},
                          headers={"If-Match": started.headers["ETag"]})
    assert submitted.status_code == 200 and submitted.json["status"] == "submitted"
    confirmed = town.post(path(obs, "/events/confirm"), json={},
                          headers={"If-Match": submitted.headers["ETag"]})
    assert confirmed.status_code == 200, confirmed.get_data(as_text=True)
    body = confirmed.json
    assert body["status"] == "confirmed" and body["score"] is not None
    assert body["score_breakdown"]["total"] == body["score"]
    assert [f["standard_id"] for f in body["findings"]] == [sid]  # the failed line
    assert [h["event"] for h in body["history"]] == ["start", "submit", "confirm"]
    with sanhu.uow() as uow:
        assert uow.session.get(Item, body["findings"][0]["id"]).observation_id == obs

    # reopening is for the level above the observer, with a reason
    tag = confirmed.headers["ETag"]
    assert town.post(path(obs, "/events/reopen"), json={"reason": "复核"},
                     headers={"If-Match": tag}).status_code == 403
    county = api_as("county_K1")
    blank = county.post(path(obs, "/events/reopen"), json={}, headers={"If-Match": tag})
    assert blank.status_code == 422 and "reason" in blank.json["errors"]
    reopened = county.post(path(obs, "/events/reopen"), json={"reason": "复核"},
                           headers={"If-Match": tag})
    assert reopened.status_code == 200, reopened.get_data(as_text=True)
    assert reopened.json["status"] == "in_progress" and reopened.json["score"] is None
    assert reopened.json["history"][-1]["note"] == "复核"


def test_an_event_without_if_match_is_428_and_a_stale_one_412_with_the_record(api_as, obs):
    town = api_as("town_T11")
    missing = town.post(path(obs, "/events/start"), json={})
    assert missing.status_code == 428
    assert missing.json["type"] == "/api/v1/problems/precondition-required"
    tag = town.etag(path(obs))
    assert town.post(path(obs, "/events/start"), json={},
                     headers={"If-Match": tag}).status_code == 200
    again = town.post(path(obs, "/events/submit"), json={}, headers={"If-Match": tag})
    assert again.status_code == 412
    assert again.json["type"] == "/api/v1/problems/precondition-failed"
    assert again.json["current"]["status"] == "in_progress"
    assert again.headers["ETag"] == f'"{again.json["current"]["version"]}"'


def test_a_stale_line_is_412_with_the_line_as_it_is_now(api_as, sanhu, world, obs):
    town = api_as("town_T11")
    with sanhu.uow() as uow:
        obs_svc.start(uow, obs, world["town_T11"])
    sid = standard_ids(sanhu, obs)["basic:9"]
    tag = town.etag(path(obs, f"/lines/{sid}"))
    assert put_line(town, obs, sid, {"result": "conform"}, tag).status_code == 200
    stale = put_line(town, obs, sid, {"result": "fail", "note": "无记录"}, tag)
    assert stale.status_code == 412
    assert stale.json["current"]["result"] == "conform"
    assert stale.headers["ETag"] == f'"{stale.json["current"]["version"]}"'
    assert put_line(town, obs, sid, {"result": "fail"}, None).status_code == 428


def test_refusals_say_who_when_and_what(api_as, sanhu, world, obs):
    town, county = api_as("town_T11"), api_as("county_K1")
    sid = standard_ids(sanhu, obs).get("basic:1")
    tag = town.etag(path(obs))
    # the county sees the record but is not its observer: 403
    refused = county.post(path(obs, "/events/start"), json={}, headers={"If-Match": tag})
    assert refused.status_code == 403
    assert refused.json["type"] == "/api/v1/problems/forbidden"
    # confirm is not possible while planned: 409
    wrong = town.post(path(obs, "/events/confirm"), json={}, headers={"If-Match": tag})
    assert wrong.status_code == 409
    assert wrong.json["type"] == "/api/v1/problems/invalid-transition"
    # start takes no reason; unknown events are 404
    extra = town.post(path(obs, "/events/start"), json={"reason": "x"},
                      headers={"If-Match": tag})
    assert extra.status_code == 422 and "reason" in extra.json["errors"]
    assert town.post(path(obs, "/events/explode"), json={},
                     headers={"If-Match": tag}).status_code == 404
    # no lines before the visit starts; a planned record cannot be filled
    assert sid is None
    assert town.get(path(obs, "/lines/1")).status_code == 404
    with sanhu.uow() as uow:
        obs_svc.start(uow, obs, world["town_T11"])
    sid = standard_ids(sanhu, obs)["basic:1"]
    line_tag = town.etag(path(obs, f"/lines/{sid}"))
    bad = put_line(town, obs, sid, {"result": "great", "deduction": 500}, line_tag)
    assert bad.status_code == 422 and set(bad.json["errors"]) == {"result", "deduction"}
    not_theirs = put_line(county, obs, sid, {"result": "conform"}, line_tag)
    assert not_theirs.status_code == 403


def test_the_list_is_scoped_filtered_and_paged(api_as, sanhu, world, obs):
    town = api_as("town_T11")
    listed = town.get("/api/v1/observations").json
    assert {o["unit"]["code"] for o in listed["observations"]} == {"V111", "V112"}
    city = api_as("city")
    everything = city.get("/api/v1/observations").json["observations"]
    assert len(everything) == 8
    cycle = everything[0]["cycle_id"]
    under = city.get(f"/api/v1/observations?unit={world.units['T21'].id}&cycle={cycle}").json
    assert {o["unit"]["code"] for o in under["observations"]} == {"V211", "V212"}
    seen, cursor = [], None
    while True:
        page = city.get("/api/v1/observations?limit=3"
                        + (f"&cursor={cursor}" if cursor else "")).json
        seen += [o["id"] for o in page["observations"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(o["id"] for o in everything)
    with sanhu.uow() as uow:
        obs_svc.start(uow, obs, world["town_T11"])
    started = city.get("/api/v1/observations?status=in_progress").json["observations"]
    assert [o["id"] for o in started] == [obs]
    assert city.get("/api/v1/observations?status=lost").status_code == 422
    assert city.get("/api/v1/observations?cycle=999999").status_code == 404


def test_a_village_secretary_sees_only_their_confirmed_record_and_404_for_the_rest(
        api_as, sanhu, world, obs):
    sec = api_as("sec_V111")
    others = [observation_of(sanhu, world, "village_quarterly", "2026Q4", code)
              for code in ("V112", "V121", "V222")]
    # not confirmed yet: not even their own
    assert sec.get("/api/v1/observations").json["observations"] == []
    assert sec.get(path(obs)).status_code == 404
    with sanhu.uow() as uow:
        obs_svc.start(uow, obs, world["town_T11"])
    fill(sanhu, obs, world["town_T11"])
    for event in ("submit", "confirm"):
        with sanhu.uow() as uow:
            getattr(obs_svc, event)(uow, obs, world["town_T11"])
    assert [o["id"] for o in sec.get("/api/v1/observations").json["observations"]] == [obs]
    mine = sec.get(path(obs))
    assert mine.status_code == 200 and mine.json["events"] == []
    for other in others:
        for response in (sec.get(path(other)), sec.get(path(other, "/events")),
                         sec.post(path(other, "/events/start"), json={},
                                  headers={"If-Match": '"1"'}),
                         put_line(sec, other, 1, {"result": "conform"}, '"1"')):
            assert response.status_code == 404, response.get_data(as_text=True)
            assert response.json["type"] == "/api/v1/problems/not-found"
    assert sec.get(f"/api/v1/observations?unit={world.units['V112'].id}").status_code == 404


def test_a_record_file_is_listed_and_downloaded_only_by_those_who_see_the_record(
        api_as, sanhu, world, obs):
    with sanhu.uow() as uow:
        obs_svc.start(uow, obs, world["town_T11"])
    sid = standard_ids(sanhu, obs)["basic:2"]
    with sanhu.uow() as uow:
        file_id = record.attach(uow, obs, world["town_T11"], data=io.BytesIO(make_png(3)),
                                filename="牌子.png", standard_id=sid)
    town = api_as("town_T11")
    body = town.get(path(obs)).json
    listed = {f["id"]: f for f in body["files"]}
    assert listed[file_id]["name"] == "牌子.png" and listed[file_id]["standard_id"] == sid
    assert town.get(path(obs, f"/lines/{sid}")).json["files"] == [file_id]
    download = town.get(listed[file_id]["download"])
    assert download.status_code == 200 and download.data == make_png(3)
    download.close()
    other = api_as("town_T12").get(listed[file_id]["download"])
    assert other.status_code == 404
    assert other.json["type"] == "/api/v1/problems/not-found"
