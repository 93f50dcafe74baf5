"""Rankings and classes through the services, on SQLite and PostgreSQL (issue 11,
points 1–2 and the approval half of 3)."""

from __future__ import annotations

import pytest
from observation_helpers import observation_of, start_and_fill
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from ledger.core.actors import Actor
from ledger.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from ledger.core.models import Observation, RankingEvent, RankingRow, Role, Unit, UnitClass
from ledger.observations import services as obs_svc
from ledger.org.directory import add_user
from ledger.results import rankings
from ledger.results.classes import save_rule


def confirm(sanhu, oid, actor, score, fails=None):
    start_and_fill(sanhu, oid, actor, score=score, fails=fails or {})
    for step in (obs_svc.submit, obs_svc.confirm):
        with sanhu.uow() as uow:
            step(uow, oid, actor)


@pytest.fixture
def setup(any_sanhu, any_world):
    """T11's two villages observed in 2026Q4; V111 confirmed, V112 still planned; a second
    staff member of T11 (the 党委书记) who approves."""
    town = any_world["town_T11"]
    v111 = observation_of(any_sanhu, any_world, "village_quarterly", "2026Q4", "V111")
    with any_sanhu.uow() as uow:
        cycle_id = uow.session.get(Observation, v111).cycle_id
        v112 = uow.session.scalar(select(Observation.id).where(
            Observation.cycle_id == cycle_id,
            Observation.unit_id == any_world.units["V112"].id))
        unit = uow.session.get(Unit, any_world.units["T11"].id)
        leader = add_user(uow.session, username="leader_T11", display_name="党委书记",
                          role=Role.TOWNSHIP_STAFF, unit=unit, password="pw-for-tests-1")
        uow.commit()
        leader = Actor.of(leader, unit)
    confirm(any_sanhu, v111, town, 80, {"basic:2": "未挂牌"})
    return {"cycle": cycle_id, "v111": v111, "v112": v112, "town": town, "leader": leader}


def rows(sanhu, ranking_id):
    with sanhu.uow() as uow:
        return {r.unit_id: r for r in uow.session.scalars(
            select(RankingRow).where(RankingRow.ranking_id == ranking_id))}


def test_a_township_ranks_approves_and_publishes_and_the_classes_are_kept(
        any_sanhu, any_world, setup):
    town, leader, w = setup["town"], setup["leader"], any_world
    with any_sanhu.uow() as uow:
        draft = rankings.compute(uow, setup["cycle"], town)
    got = rows(any_sanhu, draft.id)
    assert got[w.units["V111"].id].rank == 1 and got[w.units["V112"].id].rank is None
    # V112 is missing: no approval until it is confirmed or excused
    with any_sanhu.uow() as uow, pytest.raises(InvalidTransition, match="1 targets"):
        rankings.approve(uow, draft.id, leader)
    confirm(any_sanhu, setup["v112"], town, 95)
    with any_sanhu.uow() as uow:
        again = rankings.compute(uow, setup["cycle"], town)
    assert again.id == draft.id and again.version > draft.version
    got = rows(any_sanhu, draft.id)
    assert (got[w.units["V112"].id].rank, got[w.units["V111"].id].rank) == (1, 2)
    # two villages: 20 % of 2 rounds to 0, so both are 中间; the township moves V112 up
    assert {r.klass for r in got.values()} == {"middle"}
    with any_sanhu.uow() as uow, pytest.raises(ValidationError):
        rankings.change_class(uow, draft.id, w.units["V112"].id, town, klass="demonstration",
                              reason=" ")
    with any_sanhu.uow() as uow:
        rankings.change_class(uow, draft.id, w.units["V112"].id, town, klass="demonstration",
                              reason="党建品牌突出，经党委会研究")
    # the author may not approve; the leader may
    with any_sanhu.uow() as uow, pytest.raises(InvalidTransition, match="computed"):
        rankings.approve(uow, draft.id, town)
    with any_sanhu.uow() as uow:
        assert rankings.approve(uow, draft.id, leader).status == "approved"
    with any_sanhu.uow() as uow, pytest.raises(InvalidTransition):
        rankings.compute(uow, setup["cycle"], town)
    with any_sanhu.uow() as uow:
        assert rankings.publish(uow, draft.id, town).status == "published"
    with any_sanhu.uow() as uow:
        assert rankings.class_of(uow.session, setup["cycle"], w.units["V112"].id) == \
            "demonstration"
        events = uow.session.scalars(select(RankingEvent.event).where(
            RankingEvent.ranking_id == draft.id).order_by(RankingEvent.seq)).all()
    assert events == ["compute", "compute", "change_class", "approve", "publish"]
    # published: read-only; a correction is a new version with a reason
    with any_sanhu.uow() as uow, pytest.raises(InvalidTransition):
        rankings.change_class(uow, draft.id, w.units["V111"].id, town, klass="lagging",
                              reason="x")
    with any_sanhu.uow() as uow, pytest.raises(ValidationError):
        rankings.compute(uow, setup["cycle"], town)
    with any_sanhu.uow() as uow:
        fix = rankings.compute(uow, setup["cycle"], town, reason="V111 得分录入有误，更正")
    assert fix.number == 2 and fix.id != draft.id
    assert rows(any_sanhu, fix.id)[w.units["V112"].id].klass == "demonstration"  # kept
    for step in (rankings.approve, rankings.publish):
        with any_sanhu.uow() as uow:
            step(uow, fix.id, leader if step is rankings.approve else town)
    with any_sanhu.uow() as uow:
        statuses = dict(uow.session.execute(text(
            "SELECT number, status FROM rankings ORDER BY number")).all())
        assert uow.session.scalar(select(UnitClass.ranking_id).where(
            UnitClass.unit_id == w.units["V112"].id)) == fix.id
    assert statuses == {1: "superseded", 2: "published"}


def test_ties_are_broken_by_checklist_then_failed_lines_then_code(any_sanhu, any_world, setup):
    rows_ = [
        {"unit_id": 1, "code": "B", "score": 90, "checklist": 94, "failed_basic": 2,
         "confirmed": True, "observation_id": 1},
        {"unit_id": 2, "code": "A", "score": 90, "checklist": 94, "failed_basic": 2,
         "confirmed": True, "observation_id": 2},
        {"unit_id": 3, "code": "C", "score": 90, "checklist": 97, "failed_basic": 1,
         "confirmed": True, "observation_id": 3},
        {"unit_id": 4, "code": "D", "score": 90, "checklist": 94, "failed_basic": 1,
         "confirmed": True, "observation_id": 4},
        {"unit_id": 5, "code": "E", "score": 91, "checklist": 50, "failed_basic": 9,
         "confirmed": True, "observation_id": 5},
    ]
    from ledger.results.classes import ClassRule

    ranked = rankings.rank_rows(rows_, ClassRule())
    assert [r["code"] for r in ranked] == ["E", "C", "D", "A", "B"]
    assert [r["rank"] for r in ranked] == [1, 2, 3, 4, 5]


def test_who_may_rank_and_what_is_refused(any_sanhu, any_world, setup):
    w = any_world
    for name in ("county_K1", "sup_K1", "sec_V111", "city"):
        with any_sanhu.uow() as uow, pytest.raises(PermissionDenied):
            rankings.compute(uow, setup["cycle"], w[name])
    with any_sanhu.uow() as uow:
        draft = rankings.compute(uow, setup["cycle"], setup["town"])
    with any_sanhu.uow() as uow, pytest.raises(NotFound):
        rankings.get_ranking(uow, draft.id, w["town_T12"])
    with any_sanhu.uow() as uow, pytest.raises(PermissionDenied):
        rankings.excuse(uow, draft.id, w.units["V112"].id, w["county_K1"], reason="x")
    with any_sanhu.uow() as uow, pytest.raises(ValidationError):
        rankings.excuse(uow, draft.id, w.units["V111"].id, setup["town"], reason="已排名")
    with any_sanhu.uow() as uow, pytest.raises(Conflict):
        rankings.excuse(uow, draft.id, w.units["V112"].id, setup["town"], reason="村两委换届",
                        expected_version=draft.version + 5)
    with any_sanhu.uow() as uow:
        rankings.excuse(uow, draft.id, w.units["V112"].id, setup["town"], reason="村两委换届")
    with any_sanhu.uow() as uow:
        assert rankings.approve(uow, draft.id, setup["leader"]).status == "approved"
    with any_sanhu.uow() as uow, pytest.raises(ValidationError):
        rankings.revise(uow, draft.id, setup["leader"], reason="")
    for statement in ("UPDATE ranking_events SET note = 'x'", "DELETE FROM ranking_events"):
        with any_sanhu.uow() as uow, pytest.raises(DBAPIError, match="append-only"):
            uow.session.execute(text(statement))


def test_the_admins_class_rule_is_frozen_into_the_ranking(any_sanhu, any_world, setup):
    with any_sanhu.uow() as uow, pytest.raises(PermissionDenied):
        save_rule(uow, any_world["city"], "village_quarterly", {"mode": "threshold"})
    with any_sanhu.uow() as uow:
        save_rule(uow, any_world["admin"], "village_quarterly",
                  {"mode": "threshold", "demonstration_min": 70, "lagging_below": 60})
    with any_sanhu.uow() as uow:
        draft = rankings.compute(uow, setup["cycle"], setup["town"])
    assert rows(any_sanhu, draft.id)[any_world.units["V111"].id].klass == "demonstration"
    with any_sanhu.uow() as uow:
        assert rankings.get_ranking(uow, draft.id, setup["town"]).rule["mode"] == "threshold"


def test_compute_all_drafts_every_townships_ranking_once(any_sanhu, any_world, setup):
    with any_sanhu.uow() as uow:
        assert rankings.compute_all(uow, setup["cycle"]) == 4  # T11, T12, T21, T22
    with any_sanhu.uow() as uow:
        assert rankings.compute_all(uow, setup["cycle"]) == 0
        drafts = uow.session.execute(text(
            "SELECT observing_unit_id, status, computed_by_id FROM rankings")).all()
    assert {d.status for d in drafts} == {"draft"}
    mine = next(d for d in drafts if d.observing_unit_id == any_world.units["T11"].id)
    assert mine.computed_by_id == any_world["town_T11"].id
    got = rows(any_sanhu, _ranking_id(any_sanhu, mine))
    assert got[any_world.units["V111"].id].rank == 1


def _ranking_id(sanhu, row) -> int:
    with sanhu.uow() as uow:
        return uow.session.scalar(text(
            "SELECT id FROM rankings WHERE observing_unit_id = :u"), {"u": row.observing_unit_id})
