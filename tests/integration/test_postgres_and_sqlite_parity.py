"""The same behaviour on SQLite and PostgreSQL: migrations, cycles, lists, overdue, indexes.

Every test runs on both databases through ``any_sanhu`` (the PostgreSQL variants
skip without ``SANHU_TEST_DATABASE_URL``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
import time_machine
from sqlalchemy import func, select, text

from ledger.core.actors import Actor
from ledger.core.errors import NotFound, ValidationError
from ledger.core.models import (
    CalendarDay,
    CalendarYear,
    CatalogVersion,
    Cycle,
    Item,
    Observation,
    Standard,
    Unit,
)
from ledger.instance.migrate import upgrade
from ledger.items import services as svc
from ledger.items.queries import ItemFilter, list_items, overdue_items, scoped_items
from ledger.observations.cycles import open_cycle

PDF = b"%PDF-1.4\n%%EOF\n"
NOON_UTC = dt.time(4, 0, tzinfo=dt.UTC)  # 12:00 in Asia/Shanghai


def _counts(app) -> dict[str, int]:
    with app.uow() as uow:
        s = uow.session
        return {
            model.__tablename__: s.scalar(select(func.count()).select_from(model))
            for model in (Standard, CatalogVersion, CalendarDay, CalendarYear)
        } | {"workday_seq_max": s.scalar(select(func.max(CalendarDay.workday_seq)))}


# --- migrations and seed data -------------------------------------------------------------


def test_upgrade_run_again_changes_nothing(any_sanhu):
    before = _counts(any_sanhu)
    assert before["standards"] > 0 and before["calendar_days"] > 0
    upgrade(any_sanhu)
    upgrade(any_sanhu)
    assert _counts(any_sanhu) == before


def test_the_catalog_holds_the_42_basic_and_23_demonstration_standards(any_sanhu):
    with any_sanhu.uow() as uow:
        s = uow.session
        assert s.scalar(select(func.count()).select_from(Standard)) == 65
        by_set = dict(s.execute(select(Standard.set, func.count()).group_by(Standard.set)).all())
    assert by_set == {"basic": 42, "demonstration": 23}


# --- cycles -----------------------------------------------------------------------------


def _observations(app, cycle_id: int) -> dict[int, int]:
    with app.uow() as uow:
        return dict(uow.session.execute(
            select(Observation.unit_id, Observation.observing_unit_id)
            .where(Observation.cycle_id == cycle_id)).all())


def test_opening_a_cycle_plans_one_observation_per_target_once(any_sanhu, any_world):
    app, world = any_sanhu, any_world
    villages = {u.id: u.parent_id for u in world.units.values() if u.level == "village"}
    townships = {u.id: u.parent_id for u in world.units.values() if u.level == "township"}
    assert len(villages) == 8 and len(townships) == 4

    with app.uow() as uow:
        first = open_cycle(uow, "village_quarterly", "2026Q4")
    assert _observations(app, first.cycle_id) == villages  # each township observes its villages

    with app.uow() as uow:
        again = open_cycle(uow, "village_quarterly", "2026Q4")
    assert (again.cycle_id, again.created, again.observations_created) == (
        first.cycle_id, False, 0)
    assert _observations(app, first.cycle_id) == villages

    with app.uow() as uow:
        half = open_cycle(uow, "township_half_yearly", "2026H2")
    assert half.cycle_id != first.cycle_id
    assert _observations(app, half.cycle_id) == townships  # each county observes its townships

    with app.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Cycle)) == 2
        assert uow.session.scalar(select(func.count()).select_from(Observation)) == 12


def test_opening_a_cycle_reports_what_it_created(any_sanhu, any_world):
    app = any_sanhu
    with app.uow() as uow:
        first = open_cycle(uow, "village_quarterly", "2026Q4")
    with app.uow() as uow:
        half = open_cycle(uow, "township_half_yearly", "2026H2")
    with app.uow() as uow:
        again = open_cycle(uow, "township_half_yearly", "2026H2")
    assert (first.created, first.observations_created) == (True, 8)
    assert (half.created, half.observations_created) == (True, 4)
    assert (again.created, again.observations_created) == (False, 0)


@pytest.mark.parametrize(("kind", "period"), [
    ("village_quarterly", "2026Q5"),
    ("township_half_yearly", "2026H3"),
    ("village_quarterly", "26Q1"),
    ("village_quarterly", "2026H1"),
    ("township_half_yearly", "2026Q2"),
    ("village_quarterly", ""),
])
def test_a_malformed_period_is_refused_and_opens_nothing(any_sanhu, kind, period):
    with any_sanhu.uow() as uow, pytest.raises(ValidationError) as info:
        open_cycle(uow, kind, period)
    assert "period" in info.value.fields
    with any_sanhu.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Cycle)) == 0


# --- a small ledger through the real services ----------------------------------------------


def _chain(village: str) -> tuple[str, str, str]:
    """(township staff, county staff, secretary) in charge of a village like ``V121``."""
    return f"town_T{village[1:3]}", f"county_K{village[1]}", f"sec_{village}"


def make_item(app, world, village: str, status: str, days: int | None, desc: str) -> int:
    town, county, sec = _chain(village)
    with app.uow() as uow:
        item_id = svc.record_finding(uow, world[town], unit_id=world.units[village].id,
                                     description=desc).id
    if status == "dismissed":
        with app.uow() as uow:
            svc.dismiss(uow, item_id, world[county], reason="重复", kind="duplicate")
        return item_id
    steps = [
        ("assigned", lambda uow: svc.assign(
            uow, item_id, world[town], responsible_user_id=world[sec].id, category="deadline",
            deadline=uow.today() + dt.timedelta(days=days))),
        ("rectifying", lambda uow: svc.accept(uow, item_id, world[sec], measures="立即整改")),
        ("submitted", lambda uow: svc.submit(uow, item_id, world[sec], note="已完成",
                                             uploads=[svc.Upload(PDF, "a.pdf")])),
        ("verified", lambda uow: svc.verify(uow, item_id, world[town], method="查看",
                                            note="合格")),
        ("closed", lambda uow: svc.close(uow, item_id, world[county])),
    ]
    reached = "found"
    for target, step in steps:
        if reached == status:
            break
        with app.uow() as uow:
            reached = step(uow).status
        assert reached == target
    assert reached == status
    return item_id


#: name: (village, status, deadline in days from today)
SCENARIO = {
    "a": ("V111", "assigned", 5),
    "b": ("V111", "rectifying", 3),
    "c": ("V111", "submitted", 3),
    "d": ("V112", "assigned", 20),
    "e": ("V111", "verified", 3),
    "f": ("V111", "found", None),
    "g": ("V121", "rectifying", 7),
    "h": ("V211", "assigned", 4),
    "i": ("V112", "assigned", 10),
    "j": ("V111", "dismissed", None),
    "k": ("V112", "closed", 2),
}
TRAVEL_DAYS = 10  # then: a, b, g, h are overdue; i is due today; c waits for verification


@pytest.fixture
def ledger(any_sanhu, any_world):
    app, world = any_sanhu, any_world
    start = app.uow().today()
    ids = {name: make_item(app, world, v, st, days, f"问题{name}：三会一课记录不全")
           for name, (v, st, days) in SCENARIO.items()}
    return app, world, ids, start


def _names(ids: dict[str, int], rows) -> set[str]:
    by_id = {v: k for k, v in ids.items()}
    return {by_id[r["id"]] for r in rows}


def test_the_overdue_list_holds_exactly_the_items_past_their_deadline_in_scope(ledger):
    app, world, ids, start = ledger
    with app.uow() as uow:
        assert overdue_items(uow.session, world["city"], today=uow.today()).total == 0
    with time_machine.travel(dt.datetime.combine(start + dt.timedelta(days=TRAVEL_DAYS),
                                                 NOON_UTC), tick=False), app.uow() as uow:
        today = uow.today()
        assert today == start + dt.timedelta(days=TRAVEL_DAYS)
        s = uow.session

        def overdue(who: str, **kw) -> list[str]:
            page = overdue_items(s, world[who], today=today, **kw)
            names = [next(k for k, v in ids.items() if v == r["id"]) for r in page.rows]
            assert page.total == len(names)
            return names

        # most overdue first
        assert overdue("city") == ["b", "h", "a", "g"]
        assert overdue("sup_city") == ["b", "h", "a", "g"]
        assert overdue("county_K1") == ["b", "a", "g"]
        assert overdue("county_K2") == ["h"]
        assert overdue("town_T11") == ["b", "a"]
        assert overdue("town_T12") == ["g"]
        assert overdue("town_T22") == []
        assert overdue("sec_V111") == ["b", "a"]
        assert overdue("sec_V112") == []
        assert overdue("county_K1", unit_id=world.units["V111"].id) == ["b", "a"]
        assert overdue("city", unit_id=world.units["K2"].id) == ["h"]
        with pytest.raises(NotFound):
            overdue_items(s, world["town_T11"], today=today, unit_id=world.units["V121"].id)

        rows = {next(k for k, v in ids.items() if v == r["id"]): r
                for r in overdue_items(s, world["city"], today=today).rows}
        for name, row in rows.items():
            deadline = start + dt.timedelta(days=SCENARIO[name][2])
            assert row["deadline"] == deadline and row["overdue"] is True
            assert row["light"] == "red"
            assert row["days_overdue"] == (today - deadline).days
            workdays = s.scalar(select(func.count()).select_from(CalendarDay).where(
                CalendarDay.day > deadline, CalendarDay.day <= today,
                CalendarDay.is_workday.is_(True)))
            assert row["workdays_overdue"] == workdays


def test_list_filters_give_the_same_items_on_both_databases(ledger):
    app, world, ids, start = ledger
    with time_machine.travel(dt.datetime.combine(start + dt.timedelta(days=TRAVEL_DAYS),
                                                 NOON_UTC), tick=False), app.uow() as uow:
        s, today = uow.session, uow.today()

        def names(who: str, **flt) -> set[str]:
            page = list_items(s, world[who], ItemFilter(**flt), today=today, per_page=500)
            assert page.total == len(page.rows)
            return _names(ids, page.rows)

        t11 = {"a", "b", "c", "d", "e", "f", "i", "j", "k"}
        assert names("town_T11") == t11
        assert names("city") == set(SCENARIO)
        assert names("sec_V112") == {"d", "i", "k"}
        # status, including the submitted sub-step of rectifying
        assert names("town_T11", status="found") == {"f"}
        assert names("town_T11", status="assigned") == {"a", "d", "i"}
        assert names("town_T11", status="rectifying") == {"b"}
        assert names("town_T11", status="submitted") == {"c"}
        assert names("town_T11", status="verified") == {"e"}
        assert names("town_T11", status="closed") == {"j", "k"}
        assert names("county_K1", status="rectifying") == {"b", "g"}
        # a unit's subtree
        assert names("town_T11", unit_id=world.units["V112"].id) == {"d", "i", "k"}
        assert names("county_K1", unit_id=world.units["T11"].id) == t11
        assert names("city", unit_id=world.units["K1"].id) == t11 | {"g"}
        assert names("city", unit_id=world.units["T21"].id) == {"h"}
        with pytest.raises(NotFound):
            names("town_T11", unit_id=world.units["V121"].id)
        # text, still scoped
        assert names("county_K1", text="问题g") == {"g"}
        assert names("town_T11", text="问题g") == set()
        with app.uow() as other:
            number_a = other.session.get(Item, ids["a"]).number
        assert names("town_T11", text=number_a) == {"a"}
        assert names("town_T11", text="三会一课") == t11
        # overdue and the traffic light
        assert names("town_T11", overdue=True) == {"a", "b"}
        assert names("city", overdue=True) == {"a", "b", "g", "h"}
        assert names("town_T11", light="red") == {"a", "b"}
        assert names("town_T11", light="yellow") == {"i"}
        assert names("town_T11", light="green") == {"d"}
        assert names("town_T11", status="assigned", overdue=True) == {"a"}
        page = list_items(s, world["town_T11"], today=today, with_counts=True, per_page=2,
                          sort="number")
        assert page.total == len(t11) and len(page.rows) == 2 and page.pages == 5
        assert page.counts == {"found": 1, "assigned": 3, "rectifying": 1, "submitted": 1,
                               "verified": 1, "closed": 2}
        with pytest.raises(ValidationError):
            names("town_T11", status="pending")


def test_the_not_overdue_filter_lists_everything_else_in_scope(ledger):
    app, world, ids, start = ledger
    with time_machine.travel(dt.datetime.combine(start + dt.timedelta(days=TRAVEL_DAYS),
                                                 NOON_UTC), tick=False), app.uow() as uow:
        page = list_items(uow.session, world["town_T11"], ItemFilter(overdue=False),
                          today=uow.today(), per_page=500)
    assert _names(ids, page.rows) == {"c", "d", "e", "f", "i", "j", "k"}
    assert page.total == 7


# --- the overdue query uses the partial indexes -----------------------------------------------


def _bulk_items(app, world, n: int) -> None:
    """``n`` items over the eight villages with plain INSERTs, mostly closed, as in life."""
    villages = [u for u in world.units.values() if u.level == "village"]
    creator = world["town_T11"].id
    with app.uow() as uow:
        today = uow.today()
        states = (["closed"] * 14 + ["verified"] * 2 + ["assigned"] * 2
                  + ["rectifying", "submitted"])
        rows = []
        for i in range(n):
            unit = villages[i % len(villages)]
            status = states[i % len(states)]
            rows.append(dict(
                number=f"BULK-{i:06d}", source="observation", unit_id=unit.id,
                city_id=unit.city_id, county_id=unit.county_id, township_id=unit.township_id,
                village_id=unit.village_id, description=f"批量问题 {i}",
                state="rectifying" if status == "submitted" else status,
                submitted=status == "submitted", severity="normal", rejection_count=0,
                extension_count=0, deadline_provisional=False, created_by_id=creator,
                deadline=today + dt.timedelta(days=(i * 37) % 200 - 100), version=1,
            ))
        uow.session.execute(Item.__table__.insert(), rows)
        uow.commit()
    with app.uow() as uow:
        dialect = uow.session.get_bind().dialect.name
        uow.session.execute(text("ANALYZE" if dialect == "sqlite" else "ANALYZE items"))
        uow.commit()


def _plan(session, stmt) -> str:
    """The database's own plan for ``stmt``, as text."""
    conn = session.connection()
    compiled = stmt.compile(dialect=conn.dialect)
    if conn.dialect.name == "sqlite":
        params = tuple(
            v.isoformat() if isinstance(v, dt.date) else v
            for v in (compiled.params[name] for name in compiled.positiontup))
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), params).all()
        return "\n".join(str(r[-1]) for r in rows)
    rows = conn.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params).all()
    return "\n".join(r[0] for r in rows)


def test_the_overdue_query_in_a_township_uses_a_partial_open_items_index(any_sanhu,
                                                                          any_world):
    app, world = any_sanhu, any_world
    _bulk_items(app, world, 4000)
    with app.uow() as uow:
        s, today = uow.session, uow.today()
        town = world["town_T11"]
        base = scoped_items(s, town, ItemFilter(overdue=True), today)
        page_query = base.order_by(Item.deadline.asc(), Item.id.asc()).limit(50)
        count_query = select(func.count()).select_from(base.subquery())
        plans = {"page": _plan(s, page_query), "count": _plan(s, count_query)}
        # the answer is right, too
        expected = s.scalar(select(func.count()).select_from(Item).where(
            Item.township_id == world.units["T11"].id, Item.state.in_(["assigned", "rectifying"]),
            Item.submitted.is_(False), Item.deadline < today))
        assert overdue_items(s, town, today=today).total == expected > 0
    for name, plan in plans.items():
        assert "ix_items_open_" in plan, f"{name} query plan:\n{plan}"


def test_a_county_status_page_by_id_reads_the_status_index_in_order(any_sanhu, any_world):
    """The API's cursor page of a rare status: read through the index in id order, no sort.

    New findings are few and recent (the highest ids).  Before
    ``ix_items_<level>_status`` ended with ``id``, PostgreSQL either walked the
    primary key dropping every other status's row (173 ms for a county's
    ``found`` items at 200,000 items) or read the index and sorted.
    """
    app, world = any_sanhu, any_world
    _bulk_items(app, world, 4000)
    county = world["county_K1"]
    with app.uow() as uow:
        recent = uow.session.scalars(select(Item.id).where(
            Item.county_id == county.unit_id).order_by(Item.id.desc()).limit(60)).all()
        uow.session.execute(Item.__table__.update().where(Item.id.in_(recent)).values(
            state="found", submitted=False))
        uow.session.execute(text("ANALYZE" if app.settings.is_sqlite else "ANALYZE items"))
        uow.commit()
    with app.uow() as uow:
        s, today = uow.session, uow.today()
        base = scoped_items(s, county, ItemFilter(status="found"), today)
        page = base.order_by(Item.id).limit(51)  # the first page
        plan = _plan(s, page)
        assert "ix_items_county_status" in plan, f"plan:\n{plan}"
        assert list(s.scalars(page)) == sorted(recent)[:51]


# --- a sanity check of the world the tests above rely on -------------------------------------


def test_every_user_of_the_world_sees_their_own_unit(any_sanhu, any_world):
    with any_sanhu.uow() as uow:
        for name, actor in any_world.actors.items():
            unit = uow.session.get(Unit, actor.unit_id)
            assert isinstance(actor, Actor) and actor.sees(unit), name
    assert Counter(a.role for a in any_world.actors.values()) == {
        "village_secretary": 8, "township_staff": 4, "county_staff": 2, "supervisor": 3,
        "city_staff": 1, "admin": 1}
