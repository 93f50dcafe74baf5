"""Filling an observation's record over the API: the 听查看谈 notes and 亮点, participants'
evaluations, "mark the rest as conforming" and photos, each version-checked on its own
row where the page checks it, and every refusal on the way."""

from __future__ import annotations

import io

import pytest
from observation_helpers import fill, observation_of, standard_ids
from samples import make_pdf, make_png

from ledger.observations import services as obs_svc
from ledger.observations.planning import assign_liaison

NOT_FOUND = "/api/v1/problems/not-found"


@pytest.fixture
def obs(sanhu, world) -> int:
    """V111's record of 2026Q4, started by its township (in progress)."""
    oid = observation_of(sanhu, world, "village_quarterly", "2026Q4", "V111")
    with sanhu.uow() as uow:
        obs_svc.start(uow, oid, world["town_T11"])
    return oid


def path(oid: int, tail: str = "") -> str:
    return f"/api/v1/observations/{oid}{tail}"


def put(api, url: str, body: dict, etag: str | None):
    headers = {"If-Match": etag} if etag else {}
    return api.client.put(url, json=body, headers=api.headers(headers))


def delete(api, url: str, etag: str | None):
    headers = {"If-Match": etag} if etag else {}
    return api.client.delete(url, headers=api.headers(headers))


def upload(api, url: str, data: bytes, name: str):
    return api.client.post(url, data={"file": (io.BytesIO(data), name)},
                           headers=api.headers(), content_type="multipart/form-data")


def first_participant(api, oid: int) -> dict:
    return api.get(path(oid)).json["participants"][0]


# --- sections ----------------------------------------------------------------------------


def test_an_observer_writes_the_notes_and_the_highlights_each_with_its_own_version(
        api_as, obs):
    town = api_as("town_T11")
    listen = path(obs, "/sections/listen")
    tag = town.etag(listen)
    saved = put(town, listen, {"body": "村书记汇报了三务公开"}, tag)
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.json["body"] == "村书记汇报了三务公开" and saved.json["category"] is None
    assert saved.headers["ETag"] == f'"{saved.json["version"]}"' != tag
    highlight = put(town, path(obs, "/sections/highlights"),
                    {"body": "积分制管理", "category": "basic:1"},
                    town.etag(path(obs, "/sections/highlights")))
    assert highlight.status_code == 200, highlight.get_data(as_text=True)
    assert highlight.json["category"] == "basic:1"
    record = town.get(path(obs)).json
    sections = {sec["name"]: sec for sec in record["sections"]}
    assert sections["listen"]["body"] == "村书记汇报了三务公开"
    assert sections["highlights"]["body"] == "积分制管理"
    # the observation's own version (the lifecycle's ETag) did not move
    assert record["version"] == 2


def test_a_stale_section_is_412_with_the_text_as_it_is_now_and_428_without_if_match(
        api_as, obs):
    town = api_as("town_T11")
    talk = path(obs, "/sections/talk")
    tag = town.etag(talk)
    assert put(town, talk, {"body": "第一次"}, tag).status_code == 200
    stale = put(town, talk, {"body": "第二次"}, tag)
    assert stale.status_code == 412
    assert stale.json["type"] == "/api/v1/problems/precondition-failed"
    assert stale.json["current"]["body"] == "第一次"
    assert stale.headers["ETag"] == f'"{stale.json["current"]["version"]}"'
    missing = put(town, talk, {"body": "第三次"}, None)
    assert missing.status_code == 428
    assert missing.json["type"] == "/api/v1/problems/precondition-required"
    assert town.get(talk).json["body"] == "第一次"


def test_section_input_is_checked_per_field(api_as, obs):
    town = api_as("town_T11")
    look = path(obs, "/sections/look")
    tag = town.etag(look)
    long = put(town, look, {"body": "字" * 2001}, tag)
    assert long.status_code == 422 and "body" in long.json["errors"]
    # only 亮点 and 经验总结 name a category, and only a known one
    for name, category in (("look", "basic:1"), ("highlights", "basic:999")):
        url = path(obs, f"/sections/{name}")
        refused = put(town, url, {"body": "x", "category": category}, town.etag(url))
        assert refused.status_code == 422 and "category" in refused.json["errors"]
    unknown = put(town, look, {"body": "x", "colour": "red"}, tag)
    assert unknown.status_code == 422 and "colour" in unknown.json["errors"]
    assert town.get(path(obs, "/sections/dance")).status_code == 404
    assert put(town, path(obs, "/sections/dance"), {"body": "x"}, tag).status_code == 404


# --- participants --------------------------------------------------------------------


def test_an_observer_scores_a_participant_adds_one_and_removes_one(api_as, obs):
    town = api_as("town_T11")
    person = first_participant(town, obs)
    url = path(obs, f"/participants/{person['id']}")
    tag = town.etag(url)
    assert tag == f'"{person["version"]}"'
    scored = put(town, url, {"score": 92.5, "comment": "台账规范"}, tag)
    assert scored.status_code == 200, scored.get_data(as_text=True)
    assert scored.json["score"] == 92.5 and scored.json["comment"] == "台账规范"
    assert scored.headers["ETag"] != tag
    listed = {p["id"]: p for p in town.get(path(obs)).json["participants"]}
    assert listed[person["id"]]["score"] == 92.5

    added = town.post(path(obs, "/participants"), json={"name": "王老师", "affiliation": "党校"})
    assert added.status_code == 201, added.get_data(as_text=True)
    assert added.json["name"] == "王老师" and added.json["user_id"] is None
    new_url = path(obs, f"/participants/{added.json['id']}")
    assert delete(town, new_url, None).status_code == 428
    assert delete(town, new_url, '"99"').status_code == 412
    removed = delete(town, new_url, added.headers["ETag"])
    assert removed.status_code == 204
    assert town.get(new_url).status_code == 404


def test_a_stale_evaluation_is_412_with_the_participant_as_it_is_now(api_as, obs):
    town = api_as("town_T11")
    url = path(obs, f"/participants/{first_participant(town, obs)['id']}")
    tag = town.etag(url)
    assert put(town, url, {"score": 80}, tag).status_code == 200
    stale = put(town, url, {"score": 60, "comment": "迟到的"}, tag)
    assert stale.status_code == 412
    assert stale.json["current"]["score"] == 80
    assert stale.headers["ETag"] == f'"{stale.json["current"]["version"]}"'
    assert put(town, url, {"score": 60}, None).status_code == 428


def test_participant_input_is_checked_per_field(api_as, obs):
    town = api_as("town_T11")
    url = path(obs, f"/participants/{first_participant(town, obs)['id']}")
    tag = town.etag(url)
    bad = put(town, url, {"score": 101, "comment": "x" * 2001}, tag)
    assert bad.status_code == 422 and set(bad.json["errors"]) == {"score", "comment"}
    assert put(town, url, {"score": "many"}, tag).json["errors"].keys() == {"score"}
    nameless = town.post(path(obs, "/participants"), json={"name": ""})
    assert nameless.status_code == 422 and "name" in nameless.json["errors"]
    assert town.get(path(obs, "/participants/999999")).status_code == 404


# --- the rest of the checklist ----------------------------------------------------------


def test_mark_the_rest_as_conforming_leaves_answered_lines_alone(api_as, sanhu, obs):
    town = api_as("town_T11")
    sid = standard_ids(sanhu, obs)["basic:3"]
    line = path(obs, f"/lines/{sid}")
    assert put(town, line, {"result": "fail", "note": "缺记录"},
               town.etag(line)).status_code == 200
    marked = town.post(path(obs, "/lines/rest"))
    assert marked.status_code == 200, marked.get_data(as_text=True)
    assert marked.json == {"marked": 41, "open_lines": 0}
    lines = {x["standard_id"]: x for x in town.get(path(obs)).json["lines"]}
    assert lines[sid]["result"] == "fail"
    assert {x["result"] for k, x in lines.items() if k != sid} == {"conform"}
    assert town.post(path(obs, "/lines/rest")).json == {"marked": 0, "open_lines": 0}


# --- photos ------------------------------------------------------------------------------


def test_photos_go_on_a_line_a_section_and_the_record_and_come_back(api_as, sanhu, obs):
    town = api_as("town_T11")
    sid = standard_ids(sanhu, obs)["basic:2"]
    on_line = upload(town, path(obs, f"/lines/{sid}/files"), make_png(1), "牌子.png")
    assert on_line.status_code == 201, on_line.get_data(as_text=True)
    assert on_line.json["standard_id"] == sid and on_line.json["section"] is None
    assert on_line.json["name"] == "牌子.png" and on_line.json["kind"] == "image"
    on_section = upload(town, path(obs, "/sections/look/files"), make_png(2), "现场.png")
    assert on_section.status_code == 201
    assert on_section.json["section"] == "look" and on_section.json["standard_id"] is None
    on_record = upload(town, path(obs, "/files"), make_png(3), "合影.png")
    assert on_record.status_code == 201
    assert on_record.json["section"] is None and on_record.json["standard_id"] is None

    assert town.get(path(obs, f"/lines/{sid}")).json["files"] == [on_line.json["id"]]
    listed = {x["id"] for x in town.get(path(obs)).json["files"]}
    assert listed == {on_line.json["id"], on_section.json["id"], on_record.json["id"]}
    download = town.get(on_section.json["download"])
    assert download.status_code == 200 and download.data == make_png(2)
    download.close()


def test_uploads_are_checked_like_the_pages(api_as, obs):
    town = api_as("town_T11")
    url = path(obs, "/files")
    missing = town.client.post(url, data={}, headers=town.headers(),
                               content_type="multipart/form-data")
    assert missing.status_code == 422 and "file" in missing.json["errors"]
    script = upload(town, url, b"#!/bin/sh\nrm -rf /\n", "photo.png")
    assert script.status_code == 422 and "file" in script.json["errors"]
    assert upload(town, path(obs, "/lines/999999/files"), make_png(4),
                  "x.png").status_code == 422
    assert upload(town, path(obs, "/sections/dance/files"), make_png(4),
                  "x.png").status_code == 404
    assert town.get(path(obs)).json["files"] == []


def test_an_upload_may_be_larger_than_a_json_call(api_as, obs):
    town = api_as("town_T11")
    # over the 256 KB of a JSON call (kept under 500 KB, which would spill to a temp file)
    report = upload(town, path(obs, "/sections/check/files"), make_pdf(400 * 1024),
                    "台账.pdf")
    assert report.status_code == 201, report.get_data(as_text=True)
    assert report.json["size"] == 400 * 1024 and report.json["kind"] != "image"


def test_an_upload_over_the_evidence_limit_is_413_before_it_is_read(api_as, sanhu, obs):
    sanhu.settings = sanhu.settings.with_(evidence_max_bytes=64 * 1024)
    town = api_as("town_T11")
    huge = upload(town, path(obs, "/files"), make_pdf(200 * 1024), "太大.pdf")
    assert huge.status_code == 413, huge.get_data(as_text=True)
    assert huge.json["type"] == "/api/v1/problems/too-large"
    assert town.get(path(obs)).json["files"] == []


# --- who and when -------------------------------------------------------------------------


def test_outside_the_area_every_write_is_404(api_as, sanhu, world, obs):
    """A village secretary of another village, and a township of another township."""
    town = api_as("town_T11")
    pid = first_participant(town, obs)["id"]
    sid = standard_ids(sanhu, obs)["basic:1"]
    for name in ("sec_V112", "town_T12"):
        other = api_as(name)
        for response in (
                other.get(path(obs, "/sections/listen")),
                put(other, path(obs, "/sections/listen"), {"body": "x"}, '"1"'),
                other.get(path(obs, f"/participants/{pid}")),
                put(other, path(obs, f"/participants/{pid}"), {"score": 1}, '"1"'),
                delete(other, path(obs, f"/participants/{pid}"), '"1"'),
                other.post(path(obs, "/participants"), json={"name": "x"}),
                other.post(path(obs, "/lines/rest")),
                upload(other, path(obs, "/files"), make_png(5), "x.png"),
                upload(other, path(obs, "/sections/look/files"), make_png(5), "x.png"),
                upload(other, path(obs, f"/lines/{sid}/files"), make_png(5), "x.png")):
            assert response.status_code == 404, (name, response.get_data(as_text=True))
            assert response.json["type"] == NOT_FOUND
    assert town.get(path(obs)).json["files"] == []


def test_someone_who_sees_but_does_not_fill_the_record_is_refused_403(api_as, obs):
    """The county sees its townships' records, as the page shows them, but does not fill
    them (unless a liaison of the township)."""
    county, town = api_as("county_K1"), api_as("town_T11")
    pid = first_participant(town, obs)["id"]
    section, participant = path(obs, "/sections/listen"), path(obs, f"/participants/{pid}")
    for response in (put(county, section, {"body": "x"}, town.etag(section)),
                     put(county, participant, {"score": 1}, town.etag(participant)),
                     delete(county, participant, town.etag(participant)),
                     county.post(path(obs, "/participants"), json={"name": "x"}),
                     county.post(path(obs, "/lines/rest")),
                     upload(county, path(obs, "/files"), make_png(6), "x.png")):
        assert response.status_code == 403, response.get_data(as_text=True)
        assert response.json["type"] == "/api/v1/problems/forbidden"


def test_a_county_liaison_of_the_township_fills_the_record_like_its_observers(
        api_as, sanhu, world, obs):
    with sanhu.uow() as uow:
        assign_liaison(uow, world["county_K1"], user_id=world["county_K1"].id,
                       township_id=world.units["T11"].id)
    county = api_as("county_K1")
    url = path(obs, "/sections/talk")
    saved = put(county, url, {"body": "与村民座谈"}, county.etag(url))
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert county.post(path(obs, "/lines/rest")).json["marked"] == 42


def test_a_record_not_in_progress_is_not_filled_409(api_as, sanhu, world):
    planned = observation_of(sanhu, world, "village_quarterly", "2026Q4", "V112")
    town = api_as("town_T11")
    # before the visit there are no sections yet
    assert town.get(path(planned, "/sections/listen")).status_code == 404
    for response in (town.post(path(planned, "/lines/rest")),
                     town.post(path(planned, "/participants"), json={"name": "x"}),
                     upload(town, path(planned, "/files"), make_png(7), "x.png")):
        assert response.status_code == 409, response.get_data(as_text=True)
        assert response.json["type"] == "/api/v1/problems/invalid-transition"


def test_without_a_token_every_write_is_401(app, obs):
    client = app.test_client()
    for response in (client.put(path(obs, "/sections/listen"), json={"body": "x"},
                                headers={"If-Match": '"1"'}),
                     client.post(path(obs, "/lines/rest")),
                     client.post(path(obs, "/participants"), json={"name": "x"})):
        assert response.status_code == 401
        assert response.json["type"] == "/api/v1/problems/unauthorized"


# --- settings ------------------------------------------------------------------------------


def test_an_observer_sets_the_mode_the_demonstration_lines_and_the_theme(api_as, obs):
    town = api_as("town_T11")
    saved = put(town, path(obs, "/settings"),
                {"mode": "selective", "categories": ["basic:1"], "demonstration": True,
                 "theme": "乡村治理"}, None)
    assert saved.status_code == 200, saved.get_data(as_text=True)
    body = saved.json
    assert body["mode"] == "selective" and body["categories"] == ["basic:1"]
    assert body["demonstration"] is True and len(body["lines"]) == 65
    assert body["theme"] == "乡村治理"  # (a first observation applies the first theme)
    assert saved.headers["ETag"] == f'"{body["version"]}"'
    counted = [line for line in body["lines"] if line["counted"]]
    assert 0 < len(counted) < 65
    # "mark the rest" then answers only the chosen categories' lines
    assert town.post(path(obs, "/lines/rest")).json == {"marked": len(counted),
                                                        "open_lines": 0}


def test_settings_input_is_checked_per_field(api_as, obs):
    town = api_as("town_T11")
    url = path(obs, "/settings")
    for body, field in (({"mode": "relaxed"}, "mode"), ({}, "mode"),
                        ({"mode": "selective"}, "categories"),
                        ({"mode": "selective", "categories": ["basic:999"]}, "categories"),
                        ({"mode": "focused", "theme": "题" * 201}, "theme")):
        refused = put(town, url, body, None)
        assert refused.status_code == 422, (body, refused.get_data(as_text=True))
        assert field in refused.json["errors"], (body, refused.json)
    assert town.get(path(obs)).json["mode"] == "focused"


def test_settings_are_refused_outside_the_area_to_onlookers_and_when_not_in_progress(
        api_as, sanhu, world, obs):
    body = {"mode": "pushing"}
    for name in ("sec_V112", "town_T12"):
        assert put(api_as(name), path(obs, "/settings"), body, None).status_code == 404
    assert put(api_as("county_K1"), path(obs, "/settings"), body, None).status_code == 403
    planned = observation_of(sanhu, world, "village_quarterly", "2026Q4", "V112")
    assert put(api_as("town_T11"), path(planned, "/settings"), body, None).status_code == 409
    assert api_as("town_T11").get(path(obs)).json["mode"] == "focused"


# --- highlights --------------------------------------------------------------------------


def test_a_confirmed_records_highlights_and_their_photos_are_shared_city_wide(
        api_as, sanhu, world, obs):
    town, far_away = api_as("town_T11"), api_as("sec_V222")
    url = path(obs, "/sections/highlights")
    assert put(town, url, {"body": "积分超市激励党员", "category": "basic:1"},
               town.etag(url)).status_code == 200
    photo = upload(town, path(obs, "/sections/highlights/files"), make_png(8), "超市.png")
    sid = standard_ids(sanhu, obs)["basic:2"]
    private = upload(town, path(obs, f"/lines/{sid}/files"), make_png(9), "牌子.png")
    assert photo.status_code == private.status_code == 201
    # not before the record is confirmed
    assert far_away.get("/api/v1/highlights").json["total"] == 0
    fill(sanhu, obs, world["town_T11"])
    for event in ("submit", "confirm"):
        with sanhu.uow() as uow:
            getattr(obs_svc, event)(uow, obs, world["town_T11"])

    listed = far_away.get("/api/v1/highlights?q=积分超市")
    assert listed.status_code == 200, listed.get_data(as_text=True)
    assert listed.json["total"] == 1 and listed.json["pages"] == 1
    [row] = listed.json["highlights"]
    assert row["highlights"] == "积分超市激励党员" and row["categories"] == ["basic:1"]
    assert row["path"][-1] == world.units["V111"].name and row["period"] == "2026Q4"
    shared = far_away.get(row["photos"][0])
    assert shared.status_code == 200 and shared.data == make_png(8)
    shared.close()
    # the line's photo stays with the record, which this secretary does not see
    hidden_id = private.json["id"]
    for address in (f"/api/v1/highlight-files/{hidden_id}", private.json["download"]):
        assert far_away.get(address).status_code == 404
    assert far_away.get("/api/v1/highlights?q=没有这个").json["highlights"] == []
    assert far_away.get("/api/v1/highlights?category=basic:2").json["total"] == 0
    bad = far_away.get("/api/v1/highlights?kind=yearly&page=0")
    assert bad.status_code == 422 and set(bad.json["errors"]) == {"kind", "page"}
