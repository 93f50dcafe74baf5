"""软弱涣散 through the page: a village 后进 two cycles in a row is flagged; the county
records 认定 with a plan whose tasks are ledger items (source 整顿); refusals."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from observation_helpers import observation_of, start_and_fill
from sqlalchemy import select
from web_fixtures import csrf_token

from ledger.core.actors import Actor
from ledger.core.models import Item, Observation, Role, Unit, WeakReview
from ledger.items import services as items_svc
from ledger.observations import services as obs_svc
from ledger.org.directory import add_user
from ledger.results import rankings
from ledger.results.classes import save_rule


def rank_and_publish(sanhu, world, period, leader):
    town = world["town_T11"]
    for name, score in (("V111", 95), ("V112", 55)):
        oid = observation_of(sanhu, world, "village_quarterly", period, name)
        start_and_fill(sanhu, oid, town, score=score,
                       fails={f"basic:{n}": "未达标" for n in range(1, 15)} if score < 60 else {})
        for step in (obs_svc.submit, obs_svc.confirm):
            with sanhu.uow() as uow:
                step(uow, oid, town)
    with sanhu.uow() as uow:
        cycle_id = uow.session.get(Observation, oid).cycle_id
    with sanhu.uow() as uow:
        ranking = rankings.compute(uow, cycle_id, town)
    with sanhu.uow() as uow:
        rankings.approve(uow, ranking.id, leader)
    with sanhu.uow() as uow:
        rankings.publish(uow, ranking.id, town)


@pytest.fixture
def flagged(sanhu, world):
    with sanhu.uow() as uow:
        unit = uow.session.get(Unit, world.units["T11"].id)
        leader = Actor.of(add_user(uow.session, username="leader_T11", display_name="书记",
                                   role=Role.TOWNSHIP_STAFF, unit=unit,
                                   password="pw-for-tests-1"), unit)
        uow.commit()
    with sanhu.uow() as uow:
        save_rule(uow, world["admin"], "village_quarterly",
                  {"mode": "threshold", "demonstration_min": 90, "lagging_below": 70})
    rank_and_publish(sanhu, world, "2026Q3", leader)
    rank_and_publish(sanhu, world, "2026Q4", leader)


def test_a_village_lagging_twice_is_flagged_and_the_county_determines_with_a_plan(
        signed_in, sanhu, world, flagged):
    county = signed_in("county_K1")
    html = county.get("/results/weak").get_data(as_text=True)
    v112 = world.units["V112"].id
    assert html.count('class="card shadow-sm mb-3 weak-unit"') == 1 and f"weak-{v112}" in html
    assert "2026Q3、2026Q4" in html
    token = csrf_token(county, "/results/weak")
    bad = county.post("/results/weak", data={"csrf_token": token, "unit_id": v112,
                                             "decision": "recognised", "reason": " ",
                                             "decided_on": "2026-11-30"})
    assert bad.status_code == 400
    assert county.post("/results/weak", data={
        "csrf_token": token, "unit_id": v112, "decision": "recognised",
        "reason": "连续两季度后进，组织生活不规范", "decided_on": "2026-11-30",
        "plan": "选派第一书记，三个月内整改到位"}).status_code == 302
    again = county.post("/results/weak", data={
        "csrf_token": token, "unit_id": v112, "decision": "not_recognised", "reason": "x",
        "decided_on": "2026-11-30"})
    assert again.status_code == 400
    with sanhu.uow() as uow:
        review_id = uow.session.scalar(select(WeakReview.id))
    assert county.post("/results/weak", data={
        "csrf_token": token, "review_id": review_id, "description": "规范三会一课记录",
        "deadline": "20w"}).status_code == 302
    with sanhu.uow() as uow:
        item = uow.session.scalar(select(Item).where(Item.source == "rectification"))
        assert (item.state, item.unit_id, item.responsible_user_id) == (
            "assigned", v112, world["sec_V112"].id)
    html = county.get("/results/weak").get_data(as_text=True)
    assert item.number in html and "选派第一书记" in html
    # others: the township may not decide, the other county sees nothing of it
    town = signed_in("town_T11")
    assert town.get("/results/weak").status_code == 403
    other = signed_in("county_K2")
    assert f"weak-{v112}" not in other.get("/results/weak").get_data(as_text=True)
    assert other.post("/results/weak", data={
        "csrf_token": csrf_token(other, "/results/weak"), "unit_id": v112,
        "decision": "recognised", "reason": "x", "decided_on": "2026-11-30"}).status_code \
        == 404


def test_the_board_suggests_listing_and_filters_the_lagging_units_items(signed_in, sanhu, world,
                                                                        flagged):
    """V112's findings of 2026Q3 are assigned and overdue: the board marks them, suggests
    挂牌督办 and keeps them under the 连续后进 filter; V111's are not there."""
    town = world["town_T11"]
    with sanhu.uow() as uow:
        ids = uow.session.scalars(select(Item.id).where(
            Item.unit_id == world.units["V112"].id).order_by(Item.id).limit(2)).all()
    for item_id in ids:
        with sanhu.uow() as uow:
            items_svc.assign(uow, item_id, town, responsible_user_id=world["sec_V112"].id,
                             category="deadline", deadline="3w")
    with sanhu.uow() as uow:
        deadline = uow.session.get(Item, ids[0]).deadline
    later = dt.datetime.combine(deadline + dt.timedelta(days=5), dt.time(4), tzinfo=dt.UTC)
    with time_machine.travel(later, tick=False):  # a session signed in weeks ago has expired
        html = signed_in("sup_K1").get("/board/?lagging=1").get_data(as_text=True)
    cards, table = html.split('<table class="table table-sm table-hover ledger board')
    cards = cards.split('class="list-unstyled d-sm-none', 1)[1]  # the phone's cards
    assert table.count('class="badge text-bg-danger lagging"') == 2
    assert cards.count('class="badge text-bg-danger lagging"') == 2
    assert 'name="lagging" value="1" checked' in html
