"""A county's published ranking of its townships and a hand-built ledger for the
ranking notice (通报排名) tests: importable as ``ranking_notice_helpers``.

County K1 ranks T11 (92 points) above T12 (80) in 2026H2. The ledger, as of
20 November 2026 (Asia/Shanghai):

- T11: A closed as rectified; B closed and reopened (回头看); C dismissed (撤销);
  D found in 2026H1 and overdue since;
- T12: E found in the period and overdue.

So T11 found 2, closed 1 (50.0 %), overdue 1, reopened 1; T12 found 1, closed 0
(0.0 %), overdue 1, reopened 0; the total 3, 1 (33.3 %), 2, 1.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from observation_helpers import start_and_fill
from sqlalchemy import select

from ledger.core.actors import Actor
from ledger.core.models import Observation, Role, Unit
from ledger.items import services as svc
from ledger.observations import services as obs_svc
from ledger.observations.cycles import open_cycle
from ledger.org.directory import add_user
from ledger.results import rankings

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: the day the notice is issued (inside 2026H2 and its fourth quarter)
ISSUE_DAY = dt.datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
PDF = b"%PDF-1.4\n%%EOF\n"
EXPECTED = {"T11": (2, 1, 50.0, 1, 1), "T12": (1, 0, 0.0, 1, 0)}
EXPECTED_TOTAL = (3, 1, 33.3, 2, 1)


def at(month: int, day: int, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, 10, 0, tzinfo=SHANGHAI)


def _record(app, world, unit: str, when: dt.datetime, deadline: str = "10d") -> int:
    town = world[f"town_T{unit[1:3]}"]
    with app.uow(clock=lambda: when) as uow:
        item = svc.record_finding(uow, town, unit_id=world.units[unit].id,
                                  description=f"{unit} 三会一课记录不全")
    with app.uow(clock=lambda: when) as uow:
        svc.assign(uow, item.id, town, responsible_user_id=world[f"sec_{unit}"].id,
                   category="deadline", deadline=deadline)
    return item.id


def _close(app, world, item_id: int, unit: str, when: dt.datetime) -> None:
    sec, town, county = world[f"sec_{unit}"], world[f"town_T{unit[1:3]}"], world["county_K1"]
    with app.uow(clock=lambda: when) as uow:
        svc.accept(uow, item_id, sec, measures="补齐记录")
    with app.uow(clock=lambda: when) as uow:
        svc.submit(uow, item_id, sec, note="已补齐", uploads=[svc.Upload(PDF, "a.pdf")])
    with app.uow(clock=lambda: when) as uow:
        svc.verify(uow, item_id, town, method="现场查看", note="已整改")
    with app.uow(clock=lambda: when) as uow:
        svc.close(uow, item_id, county)


def build_ledger(app, world) -> dict[str, int]:
    """The items A–E above; returns their ids."""
    ids = {"A": _record(app, world, "V111", at(9, 1)), "B": _record(app, world, "V111", at(9, 2))}
    _close(app, world, ids["A"], "V111", at(9, 8))
    _close(app, world, ids["B"], "V111", at(11, 16))
    with app.uow(clock=lambda: at(11, 17)) as uow:
        svc.reopen(uow, ids["B"], world["county_K1"], reason="回头看发现反弹", deadline="60d")
    with app.uow(clock=lambda: at(9, 3)) as uow:
        ids["C"] = svc.record_finding(uow, world["town_T11"], unit_id=world.units["V112"].id,
                                      description="重复登记").id
    with app.uow(clock=lambda: at(9, 4)) as uow:
        svc.dismiss(uow, ids["C"], world["county_K1"], reason="重复", kind="duplicate")
    ids["D"] = _record(app, world, "V112", at(5, 10))
    ids["E"] = _record(app, world, "V121", at(9, 5))
    return ids


def publish_county_ranking(app, world, scores=(("T11", 92), ("T12", 80))) -> dict:
    """K1's 2026H2 observations of T11 and T12 confirmed, ranked, approved by a second
    county staff member (the 部长) and published; returns the ids and the 部长."""
    county = world["county_K1"]
    with app.uow(clock=lambda: at(7, 1)) as uow:
        cycle = open_cycle(uow, "township_half_yearly", "2026H2")
    for unit, score in scores:
        with app.uow() as uow:
            oid = uow.session.scalar(select(Observation.id).where(
                Observation.cycle_id == cycle.cycle_id,
                Observation.unit_id == world.units[unit].id))
        start_and_fill(app, oid, county, score=score)
        for step in (obs_svc.submit, obs_svc.confirm):
            with app.uow() as uow:
                step(uow, oid, county)
    with app.uow() as uow:
        unit = uow.session.get(Unit, world.units["K1"].id)
        user = add_user(uow.session, username="leader_K1", display_name="部长",
                        role=Role.COUNTY_STAFF, unit=unit, password="pw-for-tests-1")
        uow.commit()
        leader = Actor.of(user, unit)
    with app.uow() as uow:
        ranking = rankings.compute(uow, cycle.cycle_id, county)
    with app.uow() as uow:
        rankings.approve(uow, ranking.id, leader)
    with app.uow() as uow:
        rankings.publish(uow, ranking.id, county)
    return {"cycle": cycle.cycle_id, "ranking": ranking.id, "leader": leader}
