"""The observation pages through the Flask test client: cycles, the record filled
piece by piece (with and without script), refusals, highlights and file access."""

from __future__ import annotations

import io
import re

import pytest
from observation_helpers import fill, observation_of, standard_ids
from samples import make_png
from sqlalchemy import select
from web_fixtures import csrf_token

from ledger.core.models import Item, Observation, ObservationLine, ObservationParticipant
from ledger.observations import record
from ledger.observations import services as obs_svc

FETCH = {"X-Requested-With": "fetch"}


@pytest.fixture
def obs(sanhu, world) -> int:
    return observation_of(sanhu, world, "village_quarterly", "2026Q4", "V111")


def url(oid: int, tail: str = "") -> str:
    return f"/observations/{oid}{tail}"


def version_of(html: str, form_action: str) -> str:
    block = html[html.index(f'action="{form_action}"'):]
    return re.search(r'name="version" value="(\d+)"', block).group(1)


def test_the_menu_and_cycles_page_show_the_areas_observations(signed_in, obs):
    town = signed_in("town_T11")
    assert "/observations/cycles" in town.get("/").get_data(as_text=True)
    html = town.get("/observations/cycles").get_data(as_text=True)
    assert "2026Q4" in html and 'class="text-end count-planned">2<' in html
    cycle_link = re.search(r'href="(/observations/cycles/\d+)"', html).group(1)
    page = town.get(cycle_link).get_data(as_text=True)
    assert page.count('class="target-row"') == 2  # V111 and V112, not T12's villages
    assert "村111" in page and "村121" not in page


def test_a_township_starts_fills_submits_and_confirms_and_the_findings_appear(
        signed_in, sanhu, world, obs):
    town = signed_in("town_T11")
    token = csrf_token(town, url(obs))
    assert town.post(url(obs, "/events/start"), data={"csrf_token": token,
                                                      "expected_version": "1"}).status_code == 302
    html = town.get(url(obs)).get_data(as_text=True)
    assert html.count('class="autosave line-form"') == 42
    ids = standard_ids(sanhu, obs)
    # without script: the ordinary form, then a redirect back to the line
    action = f"/observations/{obs}/lines/{ids['basic:2']}"
    answer = town.post(action, data={"csrf_token": token, "result": "fail", "note": "未挂牌",
                                     "deduction": "5", "version": version_of(html, action)})
    assert answer.status_code == 302 and answer.location.endswith(f"#line-{ids['basic:2']}")
    # with script: JSON and the new version
    action = f"/observations/{obs}/lines/{ids['basic:9']}"
    answer = town.post(action, headers=FETCH, data={"csrf_token": token, "result": "fail",
                                                    "note": "无记录", "version": "1"})
    assert answer.status_code == 200 and answer.get_json() == {"ok": True, "version": 2}
    answer = town.post(url(obs, "/sections/listen"), headers=FETCH,
                       data={"csrf_token": token, "body": "听取书记汇报", "version": "1"})
    assert answer.get_json()["ok"] is True
    town.post(url(obs, "/files"), data={"csrf_token": token, "standard_id": ids["basic:2"],
                                        "files": [(io.BytesIO(make_png(3)), "牌子.png")]},
              content_type="multipart/form-data")
    # submit refused while lines are open: the reason says how many
    refused = town.post(url(obs, "/events/submit"), data={"csrf_token": token})
    assert refused.status_code == 409
    assert "40" in refused.get_data(as_text=True)
    assert town.post(url(obs, "/lines/rest"), data={"csrf_token": token}).status_code == 302
    with sanhu.uow() as uow:
        pid = uow.session.scalar(select(ObservationParticipant.id).where(
            ObservationParticipant.observation_id == obs))
    answer = town.post(url(obs, f"/participants/{pid}"), headers=FETCH,
                       data={"csrf_token": token, "score": "88", "comment": "较好",
                             "version": "1"})
    assert answer.get_json()["ok"] is True
    for event in ("submit", "confirm"):
        assert town.post(url(obs, f"/events/{event}"),
                         data={"csrf_token": token}).status_code == 302
    html = town.get(url(obs)).get_data(as_text=True)
    assert html.count('class="finding"') == 2
    # 100 − 5 − 3 = 92 × 0.7 + 88 × 0.3 = 90.8
    assert 'id="score-total">90.80<' in html
    with sanhu.uow() as uow:
        item_id = uow.session.scalar(select(Item.id).where(Item.observation_id == obs,
                                                           Item.standard_id == ids["basic:2"]))
    item_page = town.get(f"/items/{item_id}").get_data(as_text=True)
    assert f'href="/observations/{obs}"' in item_page
    # the village secretary now sees the confirmed record and its items
    sec = signed_in("sec_V111")
    page = sec.get(url(obs)).get_data(as_text=True)
    assert "90.80" in page and "听取书记汇报" in page and 'class="autosave' not in page


def test_a_stale_line_is_refused_with_the_fresh_value_and_the_typed_one_kept(
        signed_in, sanhu, world, obs):
    with sanhu.uow() as uow:
        obs_svc.start(uow, obs, world["town_T11"])
    sid = standard_ids(sanhu, obs)["basic:4"]
    with sanhu.uow() as uow:
        record.save_line(uow, obs, sid, world["town_T11"], result="conform", note="同事已填")
    town = signed_in("town_T11")
    token = csrf_token(town, url(obs))
    action = f"/observations/{obs}/lines/{sid}"
    answer = town.post(action, data={"csrf_token": token, "result": "fail", "note": "我的记录",
                                     "version": "1"})
    assert answer.status_code == 409
    html = answer.get_data(as_text=True)
    assert "同事已填" in html and "我的记录" in html
    assert version_of(html, action) == "2"  # saving again overrides, knowingly
    answer = town.post(action, headers=FETCH, data={"csrf_token": token, "result": "fail",
                                                    "version": "1"})
    assert answer.status_code == 409 and answer.get_json()["current"]["note"] == "同事已填"


def test_bad_input_is_refused_beside_the_field_and_keeps_what_was_typed(signed_in, sanhu,
                                                                       world, obs):
    with sanhu.uow() as uow:
        obs_svc.start(uow, obs, world["town_T11"])
    sid = standard_ids(sanhu, obs)["basic:4"]
    town = signed_in("town_T11")
    token = csrf_token(town, url(obs))
    answer = town.post(f"/observations/{obs}/lines/{sid}",
                       data={"csrf_token": token, "result": "fail", "note": "留着",
                             "deduction": "-2", "version": "1"})
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert "留着" in html and "field-error" in html
    answer = town.post(f"/observations/{obs}/lines/999999", headers=FETCH,
                       data={"csrf_token": token, "result": "fail"})
    assert answer.status_code == 400 and "standard_id" in answer.get_json()["fields"]
    with sanhu.uow() as uow:
        pid = uow.session.scalar(select(ObservationParticipant.id).where(
            ObservationParticipant.observation_id == obs))
    answer = town.post(url(obs, f"/participants/{pid}"), headers=FETCH,
                       data={"csrf_token": token, "score": "120"})
    assert answer.status_code == 400 and "score" in answer.get_json()["fields"]
    answer = town.post(url(obs, "/files"), data={
        "csrf_token": token, "section": "look",
        "files": [(io.BytesIO(b"<script>alert(1)</script>"), "x.html")]},
        content_type="multipart/form-data")
    assert answer.status_code == 400 and "x.html" in answer.get_data(as_text=True)
    with sanhu.uow() as uow:
        assert uow.session.scalar(select(ObservationLine.version).where(
            ObservationLine.observation_id == obs, ObservationLine.standard_id == sid)) == 1


def test_refusals_by_role_scope_state_and_csrf(signed_in, sanhu, world, obs):
    with sanhu.uow() as uow:
        obs_svc.start(uow, obs, world["town_T11"])
    sid_map = standard_ids(sanhu, obs)
    line = f"/observations/{obs}/lines/{sid_map['basic:1']}"
    for name, status in (("town_T12", 404), ("county_K2", 404), ("sec_V111", 404),
                         ("county_K1", 403), ("sup_K1", 403)):
        client = signed_in(name)
        token = csrf_token(client, "/")
        assert client.get(url(obs)).status_code == (404 if status == 404 else 200), name
        answer = client.post(line, headers=FETCH, data={"csrf_token": token, "result": "fail"})
        assert answer.status_code == status, name
        assert client.post(url(obs, "/events/submit"),
                           data={"csrf_token": token}).status_code == status, name
    town = signed_in("town_T11")
    assert town.post(line, data={"result": "fail"}).status_code == 400  # no CSRF token
    fill(sanhu, obs, world["town_T11"])
    with sanhu.uow() as uow:
        obs_svc.submit(uow, obs, world["town_T11"])
    token = csrf_token(town, url(obs))
    answer = town.post(line, headers=FETCH, data={"csrf_token": token, "result": "fail"})
    assert answer.status_code == 409  # a submitted record is locked
    county = signed_in("county_K1")
    html = county.get(url(obs)).get_data(as_text=True)
    assert 'class="autosave' not in html and 'id="event-' not in html


def test_reopen_needs_a_reason(signed_in, sanhu, world, obs):
    town_actor = world["town_T11"]
    with sanhu.uow() as uow:
        obs_svc.start(uow, obs, town_actor)
    fill(sanhu, obs, town_actor)
    for step in (obs_svc.submit, obs_svc.confirm):
        with sanhu.uow() as uow:
            step(uow, obs, town_actor)
    county = signed_in("county_K1")
    token = csrf_token(county, url(obs))
    answer = county.post(url(obs, "/events/reopen"), data={"csrf_token": token, "reason": " "})
    assert answer.status_code == 400
    answer = county.post(url(obs, "/events/reopen"),
                         data={"csrf_token": token, "reason": "分数与清单不符"})
    assert answer.status_code == 302
    html = county.get(url(obs)).get_data(as_text=True)
    assert 'text-bg-warning fs-6" id="obs-status"' in html  # in progress again


def test_highlights_are_shared_city_wide_with_their_photos(signed_in, sanhu, world, obs):
    town_actor = world["town_T11"]
    with sanhu.uow() as uow:
        obs_svc.start(uow, obs, town_actor)
    with sanhu.uow() as uow:
        record.save_section(uow, obs, "highlights", town_actor, body="推行党员积分制管理")
    with sanhu.uow() as uow:
        fid = record.attach(uow, obs, town_actor, data=io.BytesIO(make_png(7)),
                            filename="积分榜.png", section="highlights")
    # nothing is shared before confirmation
    other = signed_in("town_T21")
    assert "推行党员积分制管理" not in other.get("/observations/highlights").get_data(as_text=True)
    assert other.get(f"/observations/highlights/files/{fid}").status_code == 404
    fill(sanhu, obs, town_actor)
    for step in (obs_svc.submit, obs_svc.confirm):
        with sanhu.uow() as uow:
            step(uow, obs, town_actor)
    html = other.get("/observations/highlights?q=积分").get_data(as_text=True)
    assert "推行党员积分制管理" in html and f"/observations/highlights/files/{fid}" in html
    photo = other.get(f"/observations/highlights/files/{fid}")
    assert photo.status_code == 200 and photo.mimetype == "image/png"
    photo.close()
    # the record itself (and its other files) stay in scope
    assert other.get(url(obs)).status_code == 404
    assert other.get(f"/observations/files/{fid}").status_code == 404
    assert "推行" not in other.get("/observations/highlights?q=不存在的词").get_data(as_text=True)


def test_highlights_can_be_browsed_by_the_standards_category(signed_in, sanhu, world, obs):
    town_actor = world["town_T11"]
    with sanhu.uow() as uow:
        obs_svc.start(uow, obs, town_actor)
    town = signed_in("town_T11")
    token = csrf_token(town, url(obs))
    bad = town.post(url(obs, "/sections/highlights"), headers=FETCH, data={
        "csrf_token": token, "body": "x", "category": "basic:99", "version": "1"})
    assert bad.status_code == 400 and "category" in bad.get_json()["fields"]
    answer = town.post(url(obs, "/sections/highlights"), headers=FETCH, data={
        "csrf_token": token, "body": "建立党员中心户联系群众制度", "category": "basic:3",
        "version": "1"})
    assert answer.get_json()["ok"] is True
    fill(sanhu, obs, town_actor)
    for step in (obs_svc.submit, obs_svc.confirm):
        with sanhu.uow() as uow:
            step(uow, obs, town_actor)
    other = signed_in("sec_V222")
    assert "党员中心户" in other.get(
        "/observations/highlights?category=basic:3").get_data(as_text=True)
    assert "党员中心户" not in other.get(
        "/observations/highlights?category=basic:4").get_data(as_text=True)


def test_participants_and_settings_through_the_page(signed_in, sanhu, world, obs):
    with sanhu.uow() as uow:
        obs_svc.start(uow, obs, world["town_T11"])
    town = signed_in("town_T11")
    token = csrf_token(town, url(obs))
    refused = town.post(url(obs, "/participants"), data={"csrf_token": token, "name": " ",
                                                         "affiliation": "乡镇纪委"})
    assert refused.status_code == 400 and "乡镇纪委" in refused.get_data(as_text=True)
    assert town.post(url(obs, "/participants"), data={
        "csrf_token": token, "name": "王委员", "affiliation": "乡镇纪委"}).status_code == 302
    with sanhu.uow() as uow:
        pid = uow.session.scalar(select(ObservationParticipant.id).where(
            ObservationParticipant.observation_id == obs,
            ObservationParticipant.name == "王委员"))
    assert "王委员" in town.get(url(obs)).get_data(as_text=True)
    assert town.post(url(obs, f"/participants/{pid}/remove"),
                     data={"csrf_token": token}).status_code == 302
    assert town.post(url(obs, "/participants/999999/remove"),
                     data={"csrf_token": token}).status_code == 404
    # settings: a selective observation without categories is refused, with one it counts less
    refused = town.post(url(obs, "/settings"), data={"csrf_token": token, "mode": "selective"})
    assert refused.status_code == 400
    assert town.post(url(obs, "/settings"), data={
        "csrf_token": token, "mode": "selective", "categories": ["basic:1", "basic:2"],
        "theme": "主题党日"}).status_code == 302
    html = town.get(url(obs)).get_data(as_text=True)
    assert "不在本次观摩类别内" in html
    other = signed_in("town_T12")
    assert other.post(url(obs, "/settings"), data={"csrf_token": csrf_token(other, "/"),
                                                   "mode": "focused"}).status_code == 404


def test_plan_attachments_are_served_only_inside_the_area(signed_in, sanhu, world, obs):
    with sanhu.uow() as uow:
        cycle_id = uow.session.get(Observation, obs).cycle_id
    town = signed_in("town_T11")
    base = f"/observations/cycles/{cycle_id}"
    token = csrf_token(town, base + "/plan")
    town.post(base + "/plan/text", data={"csrf_token": token, "goals": "全覆盖", "version": "0"})
    answer = town.post(base + "/plan/files", data={
        "csrf_token": token, "files": [(io.BytesIO(make_png(5)), "方案.png")]},
        content_type="multipart/form-data")
    assert answer.status_code == 302
    fid = re.search(r"/observations/plan-files/(\d+)", town.get(base + "/plan")
                    .get_data(as_text=True)).group(1)
    download = town.get(f"/observations/plan-files/{fid}")
    assert download.status_code == 200 and "attachment" in download.headers[
        "Content-Disposition"]
    download.close()
    assert signed_in("town_T21").get(f"/observations/plan-files/{fid}").status_code == 404
    refused = town.post(base + "/plan/files", data={
        "csrf_token": token, "files": [(io.BytesIO(b"MZ\x90\x00"), "setup.exe")]},
        content_type="multipart/form-data")
    assert refused.status_code == 400
