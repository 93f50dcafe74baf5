"""The ranking page through the Flask client: compute, excuse, change a class, approve by
someone else, publish, correct; refusals with their reasons; scope."""

from __future__ import annotations

import re

import pytest
from observation_helpers import observation_of, start_and_fill
from sqlalchemy import select
from web_fixtures import csrf_token, sign_in

from ledger.core.actors import Actor
from ledger.core.models import Observation, Ranking, Role, Unit, UnitClass, User
from ledger.observations import services as obs_svc
from ledger.org.directory import add_user
from ledger.results import rankings


@pytest.fixture
def cycle_id(sanhu, world) -> int:
    oid = observation_of(sanhu, world, "village_quarterly", "2026Q4", "V111")
    town = world["town_T11"]
    start_and_fill(sanhu, oid, town, score=85)
    for step in (obs_svc.submit, obs_svc.confirm):
        with sanhu.uow() as uow:
            step(uow, oid, town)
    with sanhu.uow() as uow:
        unit = uow.session.get(Unit, world.units["T11"].id)
        add_user(uow.session, username="leader_T11", display_name="党委书记",
                 role=Role.TOWNSHIP_STAFF, unit=unit, password="pw-for-tests-1")
        uow.commit()
        return uow.session.get(Observation, oid).cycle_id


def version_of(html: str) -> str:
    return re.search(r'name="expected_version" value="(\d+)"', html).group(1)


def test_the_whole_ranking_through_the_page(signed_in, app, sanhu, world, cycle_id):
    town = signed_in("town_T11")
    base = f"/results/cycles/{cycle_id}/ranking"
    assert 'id="ranking-link"' in town.get(f"/observations/cycles/{cycle_id}").get_data(
        as_text=True)
    token = csrf_token(town, base)
    assert town.post(base + "/compute", data={"csrf_token": token}).status_code == 302
    with sanhu.uow() as uow:
        ranking_id = uow.session.scalar(select(Ranking.id))
    html = town.get(base).get_data(as_text=True)
    assert html.count('class="ranking-row') == 2 and "村111" in html
    v112 = world.units["V112"].id
    refused = town.post(f"/results/rankings/{ranking_id}/units/{v112}/excuse",
                        data={"csrf_token": token, "reason": " ",
                              "expected_version": version_of(html)})
    assert refused.status_code == 400
    assert town.post(f"/results/rankings/{ranking_id}/units/{v112}/excuse", data={
        "csrf_token": token, "reason": "村两委换届，顺延至下季度",
        "expected_version": version_of(html)}).status_code == 302
    html = town.get(base).get_data(as_text=True)
    v111 = world.units["V111"].id
    assert town.post(f"/results/rankings/{ranking_id}/units/{v111}/class", data={
        "csrf_token": token, "klass": "demonstration", "reason": "党建品牌突出",
        "expected_version": version_of(html)}).status_code == 302
    # a stale form is a conflict, shown with the reason
    stale = town.post(f"/results/rankings/{ranking_id}/units/{v111}/class", data={
        "csrf_token": token, "klass": "lagging", "reason": "x",
        "expected_version": version_of(html)})
    assert stale.status_code == 409
    # the author cannot approve (no button, and a forged post is refused)
    html = town.get(base).get_data(as_text=True)
    assert 'id="ranking-approve"' not in html
    refused = town.post(f"/results/rankings/{ranking_id}/events/approve",
                        data={"csrf_token": token})
    assert refused.status_code == 409 and 'id="ranking-refusal"' in refused.get_data(
        as_text=True)
    leader = app.test_client()
    sign_in(leader, "leader_T11")
    html = leader.get(base).get_data(as_text=True)
    assert 'id="ranking-approve"' in html
    assert leader.post(f"/results/rankings/{ranking_id}/events/approve", data={
        "csrf_token": csrf_token(leader, base)}).status_code == 302
    assert town.post(f"/results/rankings/{ranking_id}/events/publish",
                     data={"csrf_token": token}).status_code == 302
    with sanhu.uow() as uow:
        assert uow.session.scalar(select(UnitClass.klass).where(UnitClass.unit_id == v111)) \
            == "demonstration"
    html = town.get(base).get_data(as_text=True)
    assert 'id="ranking-status">' in html and "党建品牌突出" in html
    assert town.post(base + "/compute", data={"csrf_token": token}).status_code == 400
    assert town.post(base + "/compute", data={"csrf_token": token,
                                              "reason": "分数更正"}).status_code == 302
    # the county reads it; another township and the village cannot
    unit = world.units["T11"].id
    county, other = signed_in("county_K1"), signed_in("town_T12")
    html = county.get(f"{base}?unit={unit}").get_data(as_text=True)
    assert "村111" in html and 'id="ranking-actions"' not in html
    assert other.get(f"{base}?unit={unit}").status_code == 404
    assert county.post(base + "/compute", data={
        "csrf_token": csrf_token(county, base)}).status_code == 403
    assert other.post(f"/results/rankings/{ranking_id}/events/publish",
                      data={"csrf_token": csrf_token(other, "/")}).status_code == 404


def test_the_next_observation_shows_last_times_published_class(signed_in, sanhu, world,
                                                               cycle_id):
    town = world["town_T11"]
    with sanhu.uow() as uow:
        ranking = rankings.compute(uow, cycle_id, town)
    with sanhu.uow() as uow:
        rankings.excuse(uow, ranking.id, world.units["V112"].id, town, reason="换届")
    with sanhu.uow() as uow:
        user = uow.session.scalar(select(User).where(User.username == "leader_T11"))
        leader = Actor.of(user, uow.session.get(Unit, world.units["T11"].id))
    with sanhu.uow() as uow:
        rankings.approve(uow, ranking.id, leader)
    with sanhu.uow() as uow:
        rankings.publish(uow, ranking.id, town)
    nxt = observation_of(sanhu, world, "village_quarterly", "2027Q1", "V111")
    with sanhu.uow() as uow:
        obs_svc.start(uow, nxt, town)
    html = signed_in("town_T11").get(f"/observations/{nxt}").get_data(as_text=True)
    assert 'id="previous-class">中间<' in html


def test_the_admin_sets_the_class_rule_and_bad_rules_are_refused(signed_in, sanhu):
    admin = signed_in("admin")
    token = csrf_token(admin, "/results/settings")
    over = admin.post("/results/settings", data={"csrf_token": token, "kind": "village_quarterly",
                                                  "mode": "quota", "top": "80", "bottom": "30"})
    assert over.status_code == 400 and "100%" in over.get_data(as_text=True)
    disorder = admin.post("/results/settings", data={
        "csrf_token": token, "kind": "village_quarterly", "mode": "threshold",
        "demonstration_min": "60", "lagging_below": "80"})
    assert disorder.status_code == 400
    assert admin.post("/results/settings", data={
        "csrf_token": token, "kind": "township_half_yearly", "mode": "quota", "top": "30",
        "bottom": "15"}).status_code == 302
    assert admin.post("/results/settings", data={"csrf_token": token,
                                                  "weak_after": "0"}).status_code == 400
    assert admin.post("/results/settings", data={"csrf_token": token,
                                                  "weak_after": "3"}).status_code == 302
    from ledger.results import classes

    with sanhu.uow() as uow:
        assert classes.load_rule(uow.session, "township_half_yearly").top == 30
        assert classes.weak_after(uow.session) == 3
    assert signed_in("city").get("/results/settings").status_code == 403
