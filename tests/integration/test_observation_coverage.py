"""Coverage (全覆盖) on SQLite and PostgreSQL: counts per observing unit and per county
in each scope, late marking after the period, and reminders before its end that
happen once per observation, reminder point and person."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from observation_helpers import start_and_fill
from sqlalchemy import func, select

from ledger.core.errors import NotFound, PermissionDenied, ValidationError
from ledger.core.models import Delivery, JobRun, Notification, Observation, Role
from ledger.notify import reminders
from ledger.observations import coverage as cov
from ledger.observations import planning
from ledger.observations import services as obs_svc
from ledger.observations.cycles import open_cycle
from ledger.org.directory import add_user
from schedules import jobs

SH = ZoneInfo("Asia/Shanghai")
D = dt.date.fromisoformat
IN_PERIOD, AFTER = D("2026-11-16"), D("2027-01-04")


def at_nine(day: str) -> dt.datetime:
    return dt.datetime.combine(D(day), dt.time(9), tzinfo=SH)


def obs_of(app, world, cycle_id: int, unit: str) -> int:
    with app.uow() as uow:
        return uow.session.scalar(select(Observation.id).where(
            Observation.cycle_id == cycle_id, Observation.unit_id == world.units[unit].id))


@pytest.fixture
def cycle(any_sanhu, any_world) -> int:
    """2026Q4, under way: T11 has V111 scheduled and in progress and V112 confirmed;
    T12 has V121 in progress; the other townships have not begun."""
    app, world = any_sanhu, any_world
    with app.uow() as uow:
        cycle_id = open_cycle(uow, "village_quarterly", "2026Q4").cycle_id
    town = world["town_T11"]
    with app.uow() as uow:
        batch = planning.save_batch(uow, cycle_id, town, name="第一批", day="2026-11-10")
    with app.uow() as uow:
        planning.schedule(uow, cycle_id, town, [obs_of(app, world, cycle_id, "V111")],
                          batch_id=batch)
    start_and_fill(app, obs_of(app, world, cycle_id, "V111"), town)
    v112 = obs_of(app, world, cycle_id, "V112")
    start_and_fill(app, v112, town)
    for step in (obs_svc.submit, obs_svc.confirm):
        with app.uow() as uow:
            step(uow, v112, town)
    with app.uow() as uow:
        obs_svc.start(uow, obs_of(app, world, cycle_id, "V121"), world["town_T12"])
    return cycle_id


def table(app, cycle_id, actor, today=IN_PERIOD, **kw) -> dict[str, tuple]:
    with app.uow() as uow:
        rows = cov.coverage(uow.session, cycle_id, actor, today, **kw)
    return {r.unit_code: (r.planned, r.scheduled, r.in_progress, r.submitted, r.confirmed,
                          r.late) for r in rows}


def test_the_city_sees_each_townships_coverage_of_its_villages(any_sanhu, any_world, cycle):
    assert table(any_sanhu, cycle, any_world["city"]) == {
        "T11": (2, 1, 1, 0, 1, 0), "T12": (2, 0, 1, 0, 0, 0),
        "T21": (2, 0, 0, 0, 0, 0), "T22": (2, 0, 0, 0, 0, 0)}
    assert table(any_sanhu, cycle, any_world["sup_city"], by="county") == {
        "K1": (4, 1, 2, 0, 1, 0), "K2": (4, 0, 0, 0, 0, 0)}
    assert table(any_sanhu, cycle, any_world["admin"]) == table(any_sanhu, cycle,
                                                               any_world["city"])


def test_each_scope_sees_only_its_own_observing_units(any_sanhu, any_world, cycle):
    assert set(table(any_sanhu, cycle, any_world["county_K1"])) == {"T11", "T12"}
    assert set(table(any_sanhu, cycle, any_world["sup_K2"])) == {"T21", "T22"}
    assert table(any_sanhu, cycle, any_world["town_T11"]) == {"T11": (2, 1, 1, 0, 1, 0)}
    assert set(table(any_sanhu, cycle, any_world["county_K2"], by="county")) == {"K2"}
    with pytest.raises(PermissionDenied):
        table(any_sanhu, cycle, any_world["sec_V111"])
    with pytest.raises(NotFound):
        table(any_sanhu, cycle + 999, any_world["city"])
    with pytest.raises(ValidationError):
        table(any_sanhu, cycle, any_world["city"], by="village")


def test_in_a_township_cycle_the_county_sees_its_own_coverage_and_townships_nothing(
        any_sanhu, any_world):
    with any_sanhu.uow() as uow:
        cycle = open_cycle(uow, "township_half_yearly", "2026H2").cycle_id
    assert table(any_sanhu, cycle, any_world["county_K1"]) == {"K1": (2, 0, 0, 0, 0, 0)}
    assert set(table(any_sanhu, cycle, any_world["city"])) == {"K1", "K2"}
    assert table(any_sanhu, cycle, any_world["town_T11"]) == {}


def test_after_the_period_every_unconfirmed_observation_is_late(any_sanhu, any_world, cycle):
    late = table(any_sanhu, cycle, any_world["city"], today=AFTER)
    assert {code: row[-1] for code, row in late.items()} == {"T11": 1, "T12": 2, "T21": 2,
                                                             "T22": 2}
    with any_sanhu.uow() as uow:
        rows = cov.coverage(uow.session, cycle, any_world["city"], AFTER)
    total = cov.total_of(rows)
    assert (total.unit_id, total.planned, total.confirmed, total.late, total.unfinished) == (
        None, 8, 1, 7, 7)
    assert set(rows[0].as_dict()) == {"unit_code", "unit_name", "planned", "scheduled",
                                      "in_progress", "submitted", "confirmed", "late"}


def test_mark_late_stamps_the_unconfirmed_once_the_period_has_ended(any_sanhu, any_world,
                                                                    cycle):
    with any_sanhu.uow() as uow:
        assert cov.mark_late(uow, D("2026-12-31")) == 0
    with time_machine.travel(at_nine("2027-01-01"), tick=False), any_sanhu.uow() as uow:
        assert cov.mark_late(uow, D("2027-01-01")) == 7
    with any_sanhu.uow() as uow:
        assert cov.mark_late(uow, D("2027-01-02")) == 0
        rows = uow.session.execute(select(Observation.status, Observation.late_at,
                                          Observation.version)
                                   .where(Observation.cycle_id == cycle)).all()
    stamped = {(status, late is not None) for status, late, _ in rows}
    assert stamped == {("confirmed", False), ("in_progress", True), ("planned", True)}
    assert {late.astimezone(SH).date() for _, late, _ in rows if late} == {D("2027-01-01")}
    assert {v for s, _, v in rows if s == "planned"} == {1}  # not a lifecycle event
    # marked late: counted late even by a clock still inside the period
    late = table(any_sanhu, cycle, any_world["town_T12"], today=IN_PERIOD)
    assert late == {"T12": (2, 0, 1, 0, 0, 2)}


def notes(app) -> list[tuple]:
    with app.uow() as uow:
        return sorted(uow.session.execute(select(
            Notification.user_id, Notification.observation_id, Notification.dedupe_key,
            Notification.kind, Notification.offset_days)).all())


def remind(app, day: str):
    with time_machine.travel(at_nine(day), tick=False), app.uow() as uow:
        return cov.remind_unfinished(uow, D(day))


def test_the_unfinished_are_reminded_once_per_offset_to_each_observing_staff_member(
        any_sanhu, any_world, cycle):
    app, world = any_sanhu, any_world
    with app.uow() as uow:
        open_cycle(uow, "township_half_yearly", "2026H2")
        second = add_user(uow.session, username="town_T11b", display_name="town_T11b",
                          role=Role.TOWNSHIP_STAFF, unit=uow.session.merge(world.units["T11"]),
                          password="pw-for-tests-1")
        gone = add_user(uow.session, username="town_T11c", display_name="town_T11c",
                        role=Role.TOWNSHIP_STAFF, unit=uow.session.merge(world.units["T11"]),
                        password="pw-for-tests-1")
        gone.active = False
        second_id = second.id
        uow.commit()
    with app.uow() as uow:
        reminders.set_notify_settings(uow, webhook_enabled=True, webhook_allow_internal=True,
                                      webhook_url="http://127.0.0.1:9/hook")
    assert remind(app, "2026-12-16").total == 0  # 11 working days left
    first = remind(app, "2026-12-17")  # 10 working days left
    # 7 unfinished village targets (T11's V111 twice: two staff) and 4 townships
    assert first.total == 8 + 4
    assert first.notifications == {"village_quarterly:2026Q4:10": 8,
                                   "township_half_yearly:2026H2:10": 4}
    assert first.deliveries == {"inbox": 12, "webhook": 11}
    sent = notes(app)
    v111 = obs_of(app, world, cycle, "V111")
    assert (second_id, v111, f"obs:{v111}:10:{second_id}", "observation", 10) in sent
    recipients = {user for user, *_ in sent}
    assert recipients == {world["town_T11"].id, second_id, world["town_T12"].id,
                          world["town_T21"].id, world["town_T22"].id, world["county_K1"].id,
                          world["county_K2"].id}
    assert obs_of(app, world, cycle, "V112") not in {o for _, o, *_ in sent}  # confirmed
    assert remind(app, "2026-12-17").total == 0
    assert remind(app, "2026-12-18").total == 0  # 9 left: the 10-day point already done
    assert remind(app, "2026-12-28").total == 12  # 3 left: the 5-day point, caught up
    assert remind(app, "2026-12-30").total == 12  # the 1-day point
    assert remind(app, "2026-12-31").total == 0
    assert remind(app, "2027-01-04").total == 0  # over: marked late instead
    offsets = {key.split(":")[2] for _, _, key, _, _ in notes(app)}
    assert offsets == {"10", "5", "1"}
    with app.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Notification)) == 36
        assert uow.session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.channel == "inbox")) == 36


def test_the_daily_job_marks_late_and_runs_once_a_day(any_sanhu, any_world, cycle):
    with time_machine.travel(at_nine("2027-01-02"), tick=False):
        assert jobs.observation_sweep(any_sanhu) == "ok"
        assert jobs.observation_sweep(any_sanhu) == "skipped"
    with any_sanhu.uow() as uow:
        run = uow.session.scalar(select(JobRun).where(JobRun.job_id == "observation_sweep"))
        assert (run.run_key, run.outcome) == ("2027-01-02", "ok")
        assert "'late': 7" in run.detail
        assert uow.session.scalar(select(func.count()).select_from(Observation).where(
            Observation.late_at.is_not(None))) == 7
