"""A published ranking to hang funds on (以奖代补), shared by the service and page tests."""

from __future__ import annotations

from observation_helpers import observation_of, start_and_fill
from sqlalchemy import select

from ledger.core.actors import Actor
from ledger.core.models import Observation, Role, Unit
from ledger.observations import services as obs_svc
from ledger.org.directory import add_user
from ledger.results import rankings


def confirm(sanhu, oid: int, actor, score: float, fails: dict | None = None) -> None:
    start_and_fill(sanhu, oid, actor, score=score, fails=fails or {})
    for step in (obs_svc.submit, obs_svc.confirm):
        with sanhu.uow() as uow:
            step(uow, oid, actor)


def publish_t11(sanhu, world) -> dict:
    """T11's 2026Q4 ranking, published: V112 first and 示范, V111 second and 后进 (both
    moved by the township with a reason); ``leader_T11``, a second staff member of T11,
    approves what ``town_T11`` does."""
    town = world["town_T11"]
    v111 = observation_of(sanhu, world, "village_quarterly", "2026Q4", "V111")
    with sanhu.uow() as uow:
        cycle_id = uow.session.get(Observation, v111).cycle_id
        v112 = uow.session.scalar(select(Observation.id).where(
            Observation.cycle_id == cycle_id, Observation.unit_id == world.units["V112"].id))
        unit = uow.session.get(Unit, world.units["T11"].id)
        user = add_user(uow.session, username="leader_T11", display_name="党委书记",
                        role=Role.TOWNSHIP_STAFF, unit=unit, password="pw-for-tests-1")
        uow.commit()
        leader = Actor.of(user, unit)
    confirm(sanhu, v111, town, 80, {"basic:2": "未挂牌"})
    confirm(sanhu, v112, town, 95)
    with sanhu.uow() as uow:
        ranking = rankings.compute(uow, cycle_id, town)
    for unit_code, klass in (("V112", "demonstration"), ("V111", "lagging")):
        with sanhu.uow() as uow:
            rankings.change_class(uow, ranking.id, world.units[unit_code].id, town,
                                  klass=klass, reason="经党委会研究")
    with sanhu.uow() as uow:
        rankings.approve(uow, ranking.id, leader)
    with sanhu.uow() as uow:
        rankings.publish(uow, ranking.id, town)
    return {"cycle": cycle_id, "ranking": ranking.id, "town": town, "leader": leader}


def publish_correction(sanhu, setup: dict, reason: str = "V111 得分录入有误，更正") -> int:
    """A corrected version of the ranking, approved and published; returns its id."""
    with sanhu.uow() as uow:
        fix = rankings.compute(uow, setup["cycle"], setup["town"], reason=reason)
    with sanhu.uow() as uow:
        rankings.approve(uow, fix.id, setup["leader"])
    with sanhu.uow() as uow:
        rankings.publish(uow, fix.id, setup["town"])
    return fix.id
