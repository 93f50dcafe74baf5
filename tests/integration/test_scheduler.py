"""The scheduler on a real job store: missed runs, start-up, idempotent jobs, one leader."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, select

from ledger.core.models import Cycle, JobRun, Notification, Observation
from schedules import jobs, jobs_overview, run_now
from schedules.leader import SchedulerRunner, is_reloader_parent
from schedules.scheduler import build_scheduler, job_specs, start_scheduler, sync_jobs

SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


def runs_of(app, job_id: str) -> list[tuple[str, str]]:
    with app.uow() as uow:
        return [tuple(r) for r in uow.session.execute(
            select(JobRun.run_key, JobRun.outcome).where(JobRun.job_id == job_id)
            .order_by(JobRun.id))]


def wait_for(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def counts(app) -> tuple[int, int]:
    with app.uow() as uow:
        return (uow.session.scalar(select(func.count(Cycle.id))),
                uow.session.scalar(select(func.count(Observation.id))))


Q4_START = at(2026, 10, 1, 0, 5)


def first_start(app, when: dt.datetime, next_quarter=Q4_START) -> None:
    """The scheduler runs once before the quarter starts, then goes down."""
    with time_machine.travel(when, tick=True):
        scheduler = build_scheduler(app)
        start_scheduler(scheduler, app)
        assert scheduler.get_job("open_village_quarterly").next_run_time == next_quarter
        scheduler.shutdown()


def test_a_quarter_start_missed_within_the_grace_window_runs_once_when_the_scheduler_returns(
        sanhu, world):
    first_start(sanhu, at(2026, 9, 30, 23, 0))
    with time_machine.travel(at(2026, 10, 1, 3, 0), tick=True):  # down 3 h: within 6 h
        scheduler = build_scheduler(sanhu)
        done = start_scheduler(scheduler, sanhu)
        assert done["open_village_quarterly"] == "kept"
        wait_for(lambda: ("2026Q4", "ok") in runs_of(sanhu, "open_village_quarterly"))
        next_run = scheduler.get_job("open_village_quarterly").next_run_time
        scheduler.shutdown()
    assert runs_of(sanhu, "open_village_quarterly") == [("2026Q4", "ok")]
    assert next_run == at(2027, 1, 1, 0, 5)
    assert counts(sanhu) == (1, 8)  # the 8 villages of the world


def test_a_quarter_start_missed_beyond_the_grace_window_does_not_run(sanhu, world):
    first_start(sanhu, at(2026, 9, 30, 23, 0))
    with time_machine.travel(at(2026, 10, 1, 6, 10), tick=True):  # 6 h 5 min late
        scheduler = build_scheduler(sanhu)
        start_scheduler(scheduler, sanhu)
        wait_for(lambda: runs_of(sanhu, "open_village_quarterly"))
        next_run = scheduler.get_job("open_village_quarterly").next_run_time
        scheduler.shutdown()
    assert runs_of(sanhu, "open_village_quarterly") == [("2026Q4", "missed")]
    assert next_run == at(2027, 1, 1, 0, 5)
    assert counts(sanhu) == (0, 0)


def test_registering_jobs_at_start_up_keeps_a_missed_run_that_replace_existing_would_drop(
        sanhu):
    first_start(sanhu, at(2026, 9, 30, 23, 0))
    with time_machine.travel(at(2026, 10, 1, 3, 0), tick=False):
        scheduler = build_scheduler(sanhu)
        scheduler.start(paused=True)
        done = sync_jobs(scheduler, job_specs(sanhu.settings), 6 * 3600)
        assert set(done.values()) == {"kept"}
        assert scheduler.get_job("open_village_quarterly").next_run_time == at(2026, 10, 1, 0, 5)
        # what the pitfall would do: re-adding recomputes the next run from now
        spec = job_specs(sanhu.settings)[0]
        scheduler.add_job(spec.func, trigger=spec.trigger, id=spec.id, replace_existing=True)
        assert scheduler.get_job(spec.id).next_run_time == at(2027, 1, 1, 0, 5)
        scheduler.shutdown()


def test_a_changed_trigger_is_rescheduled_and_an_unknown_stored_job_removed(sanhu):
    first_start(sanhu, at(2026, 9, 30, 23, 0))
    specs = job_specs(sanhu.settings)
    specs[2] = type(specs[2])(specs[2].id, specs[2].func,
                              CronTrigger(hour=6, minute=45, timezone=SH), specs[2].name)
    with time_machine.travel(at(2026, 9, 30, 23, 30), tick=False):
        scheduler = build_scheduler(sanhu)
        scheduler.start(paused=True)
        done = sync_jobs(scheduler, specs[:-1], 3600)
        assert done["reminder_sweep"] == "rescheduled"
        assert done["deliver"] == "removed"
        assert done["open_village_quarterly"] == "kept"
        assert scheduler.get_job("reminder_sweep").next_run_time == at(2026, 10, 1, 6, 45)
        assert scheduler.get_job("open_village_quarterly").misfire_grace_time == 3600
        scheduler.shutdown()


def test_jobs_are_stored_with_grace_coalescing_and_one_instance(sanhu):
    first_start(sanhu, at(2026, 9, 30, 23, 0))
    with time_machine.travel(at(2026, 9, 30, 23, 30), tick=False):
        scheduler = build_scheduler(sanhu)
        scheduler.start(paused=True)
        for job in scheduler.get_jobs():
            assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (6 * 3600, True, 1)
            assert job.func_ref == f"schedules.jobs:{job.id}"
        scheduler.shutdown()


def test_opening_the_quarterly_cycle_twice_for_the_same_period_changes_nothing(any_sanhu,
                                                                                any_world):
    with time_machine.travel(at(2026, 10, 1, 0, 5), tick=False):
        assert jobs.open_village_quarterly(any_sanhu) == "ok"
        first = counts(any_sanhu)
        assert jobs.open_village_quarterly(any_sanhu) == "skipped"
        assert run_now(any_sanhu, "open_village_quarterly") == "ok"  # forced: still no change
        assert jobs.open_township_half_yearly(any_sanhu) == "ok"
    assert first == (1, 8)
    assert counts(any_sanhu) == (2, 8 + 4)
    with any_sanhu.uow() as uow:
        run = uow.session.scalars(select(JobRun).where(
            JobRun.job_id == "open_village_quarterly")).one()
    assert (run.run_key, run.outcome, run.attempts) == ("2026Q4", "ok", 2)


def test_the_reminder_job_runs_once_a_day_and_a_forced_rerun_adds_nothing(any_sanhu, any_world):
    from announce_helpers import forget_announcements

    from ledger.items import services

    with time_machine.travel(at(2026, 11, 2, 9, 0), tick=False):
        with any_sanhu.uow() as uow:
            item = services.record_finding(uow, any_world["town_T11"],
                                           unit_id=any_world.units["V111"].id,
                                           description="台账不全")
        with any_sanhu.uow() as uow:
            services.assign(uow, item.id, any_world["town_T11"],
                            responsible_user_id=any_world["sec_V111"].id,
                            category="deadline", deadline=dt.date(2026, 11, 9))
        forget_announcements(any_sanhu)
        assert jobs.reminder_sweep(any_sanhu) == "ok"
        assert jobs.reminder_sweep(any_sanhu) == "skipped"
        assert run_now(any_sanhu, "reminder_sweep") == "ok"
    with any_sanhu.uow() as uow:
        notes = uow.session.scalars(select(Notification.dedupe_key)).all()
    assert notes == [f"r:{item.id}:2026-11-09:5:{any_world['sec_V111'].id}"]


def test_a_failing_job_is_recorded_as_failed_and_may_run_again(sanhu, monkeypatch):
    def broken(uow, day):
        raise RuntimeError("database on fire")

    monkeypatch.setattr("ledger.notify.reminders.overdue_digest", broken)
    with time_machine.travel(at(2026, 11, 3, 8, 0), tick=False):
        with pytest.raises(RuntimeError):
            jobs.overdue_digest(sanhu)
        assert runs_of(sanhu, "overdue_digest") == [("2026-11-03", "failed")]
        monkeypatch.undo()
        assert jobs.overdue_digest(sanhu) == "ok"
    assert runs_of(sanhu, "overdue_digest") == [("2026-11-03", "ok")]


def test_the_jobs_overview_shows_trigger_next_run_and_last_outcome(sanhu, world):
    with time_machine.travel(at(2026, 10, 1, 0, 6), tick=False):
        overview = {j["id"]: j for j in jobs_overview(sanhu)}
        assert overview["open_village_quarterly"]["scheduled"] is False
        jobs.open_village_quarterly(sanhu)
    first_start(sanhu, at(2026, 10, 1, 0, 7), next_quarter=at(2027, 1, 1, 0, 5))
    with time_machine.travel(at(2026, 10, 1, 0, 8), tick=False):
        overview = {j["id"]: j for j in jobs_overview(sanhu)}
    assert set(overview) == {"open_village_quarterly", "open_township_half_yearly",
                             "reminder_sweep", "overdue_digest", "report_reminders", "deliver",
                             "observation_sweep", "results_reminders", "dashboard_refresh",
                             "evidence_gc"}
    quarterly = overview["open_village_quarterly"]
    assert quarterly["trigger"] == \
        "cron[month='1,4,7,10', day='1', hour='0', minute='5'] Asia/Shanghai"
    assert quarterly["scheduled"] is True
    assert quarterly["next_run"] == at(2027, 1, 1, 0, 5)
    assert (quarterly["last_run_key"], quarterly["last_outcome"]) == ("2026Q4", "ok")
    assert overview["reminder_sweep"]["last_outcome"] is None
    with pytest.raises(KeyError):
        run_now(sanhu, "no_such_job")


def test_two_runners_on_one_sqlite_database_one_leads_and_the_other_takes_over(sanhu):
    first = SchedulerRunner(sanhu, retry_seconds=0.1, heartbeat_seconds=0.1).start()
    wait_for(first.leading.is_set)
    second = SchedulerRunner(sanhu, retry_seconds=0.1, heartbeat_seconds=0.1).start()
    time.sleep(0.5)
    assert not second.leading.is_set()
    first.stop()
    wait_for(second.leading.is_set)
    second.stop()
    assert not second.leading.is_set()


def test_the_in_process_scheduler_is_not_started_in_a_reloader_parent():
    parent = {"FLASK_RUN_FROM_CLI": "true", "FLASK_DEBUG": "1"}
    assert is_reloader_parent(parent)
    assert not is_reloader_parent({**parent, "WERKZEUG_RUN_MAIN": "true"})
    assert not is_reloader_parent({})


def test_start_in_process_starts_once(sanhu, monkeypatch):
    from schedules import leader

    monkeypatch.setattr(leader, "_IN_PROCESS", None)
    first = leader.start_in_process(sanhu, env={})
    try:
        assert leader.start_in_process(sanhu, env={}) is first
        assert leader.start_in_process(sanhu, env={"FLASK_RUN_FROM_CLI": "true",
                                                   "FLASK_DEBUG": "1"}) is None
        wait_for(first.leading.is_set)
    finally:
        leader.stop_in_process()


def test_sanhu_run_starts_the_in_process_scheduler_once_unless_told_not_to(tmp_path,
                                                                           monkeypatch):
    from click.testing import CliRunner

    import schedules.leader
    import web.cli.commands

    monkeypatch.setenv("SANHU_DATABASE_URL", f"sqlite:///{tmp_path / 'run.sqlite'}")
    monkeypatch.setenv("SANHU_EVIDENCE_DIR", str(tmp_path / "ev"))
    calls = []
    monkeypatch.setattr(schedules.leader, "start_in_process",
                        lambda app, env=None: calls.append("start") or object())
    monkeypatch.setattr(schedules.leader, "stop_in_process", lambda: calls.append("stop"))
    monkeypatch.setattr(web.cli.commands, "serve", lambda host, port: calls.append("serve"))
    runner = CliRunner()
    result = runner.invoke(web.cli.commands.main, ["run"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert calls == ["start", "serve", "stop"]
    calls.clear()
    result = runner.invoke(web.cli.commands.main, ["run", "--no-scheduler"], catch_exceptions=False)
    assert calls == ["serve"]


def test_sanhu_jobs_list_and_run(tmp_path, monkeypatch, sqlite_template):
    import shutil

    from click.testing import CliRunner

    import web.cli.commands

    shutil.copy(sqlite_template, tmp_path / "cli.sqlite")
    monkeypatch.setenv("SANHU_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    runner = CliRunner()
    with time_machine.travel(at(2026, 11, 3, 10, 0), tick=False):
        out = runner.invoke(web.cli.commands.main, ["jobs", "run", "reminder_sweep"]).output
        assert out.strip() == "reminder_sweep: ok"
        listing = runner.invoke(web.cli.commands.main, ["jobs", "list"]).output
    assert "reminder_sweep" in listing and "2026-11-03 ok" in listing
    assert runner.invoke(web.cli.commands.main, ["jobs", "run", "nope"]).exit_code != 0


def test_alembic_autogenerate_ignores_the_job_store_table(any_sanhu):
    from alembic import command
    from sqlalchemy import inspect

    from ledger.instance.migrate import alembic_config

    with time_machine.travel(at(2026, 11, 3, 10, 0), tick=False):
        scheduler = build_scheduler(any_sanhu)
        start_scheduler(scheduler, any_sanhu)
        scheduler.shutdown()
    assert "apscheduler_jobs" in inspect(any_sanhu.engine).get_table_names()
    command.check(alembic_config(any_sanhu.settings))  # raises if it wanted to change anything


def claim(app, job_id: str, run_key: str, owner: str) -> None:
    from schedules import runs

    with app.uow() as uow:
        assert runs.begin_run(uow, job_id, run_key, owner=owner)


def test_run_now_takes_over_at_once_a_run_whose_leader_no_longer_holds_the_lock(any_sanhu):
    with time_machine.travel(at(2026, 11, 3, 8, 0), tick=False):
        claim(any_sanhu, "overdue_digest", "2026-11-03", "pg:999999|gone:999999")
        assert run_now(any_sanhu, "overdue_digest") == "ok"
    with any_sanhu.uow() as uow:
        run = uow.session.scalars(select(JobRun).where(JobRun.job_id == "overdue_digest")).one()
    assert (run.outcome, run.attempts) == ("ok", 2)
    assert run.owner.startswith("run:")


def test_run_now_waits_for_a_live_run_and_takes_over_once_its_heartbeat_lapsed(any_sanhu):
    with time_machine.travel(at(2026, 11, 3, 8, 0), tick=False):
        claim(any_sanhu, "overdue_digest", "2026-11-03", "run:elsewhere|web:1")
        assert run_now(any_sanhu, "overdue_digest") == "skipped"  # alive: heartbeat is fresh
    lapse = 3 * any_sanhu.settings.scheduler_heartbeat_seconds
    with time_machine.travel(at(2026, 11, 3, 8, 0) + dt.timedelta(seconds=lapse - 1),
                             tick=False):
        assert run_now(any_sanhu, "overdue_digest") == "skipped"
    with time_machine.travel(at(2026, 11, 3, 8, 0) + dt.timedelta(seconds=lapse + 1),
                             tick=False):
        assert run_now(any_sanhu, "overdue_digest") == "ok"
    assert runs_of(any_sanhu, "overdue_digest") == [("2026-11-03", "ok")]


def test_a_leader_that_lost_its_lock_does_not_run_a_job(sanhu):
    jobs.lead("flock:1", holds=lambda: False)
    try:
        with time_machine.travel(at(2026, 11, 3, 8, 0), tick=False):
            assert jobs.overdue_digest(sanhu) == "skipped"
    finally:
        jobs.step_down()
    assert runs_of(sanhu, "overdue_digest") == []


def test_the_reminder_job_catches_up_the_points_of_a_day_no_sweep_ran_once_marked_late(
        any_sanhu, any_world):
    from crash_helpers import items_due

    from ledger.notify.reminders import LATE_MARK

    items = items_due(any_sanhu, any_world, {"2026-11-20": 1, "2026-11-19": 1},
                      at(2026, 11, 2, 9, 0))
    by_deadline = {deadline: item for item, (deadline, _) in items.items()}
    for day in (17, 18, 20, 20, 23):  # no sweep on Thursday 19th (the 1-day point of the 20th)
        with time_machine.travel(at(2026, 11, day, 7, 30), tick=False):
            jobs.reminder_sweep(any_sanhu)
    with any_sanhu.uow() as uow:
        notes = uow.session.execute(select(Notification.item_id, Notification.offset_days,
                                           Notification.title)
                                    .order_by(Notification.id)).all()
    got = [(item, offset, LATE_MARK in title) for item, offset, title in notes]
    assert got == [
        (by_deadline["2026-11-19"], 1, False),  # 18th: its 1-day point
        (by_deadline["2026-11-20"], 0, False),  # 20th: the deadline ...
        (by_deadline["2026-11-20"], 1, True),   # ... and the missed 1-day point, late, once
    ]  # the 19th's own deadline day passed unswept: overdue reminders take it from there
