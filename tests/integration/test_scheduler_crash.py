"""A scheduler killed mid-run loses no day: real processes, ``kill -9``, SQLite and PostgreSQL.

Two real ``sanhu scheduler`` processes start at 07:29:58 on Monday 16 November
2026; the daily reminder sweep fires at 07:30 in the leader.  The test holds
the sweep in the middle of its transaction (PostgreSQL: a statement trigger
waiting on an advisory lock the test holds; SQLite: the test holds the write
lock), kills the leader with SIGKILL, and counts the notifications the
standby then writes against the reference set built from the items: none
lost, none doubled — including the points of Friday 13th, when no sweep ran
(caught up, marked （补发）).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import signal
import sqlite3
from zoneinfo import ZoneInfo

import pytest
import time_machine
from crash_helpers import (
    count_notifications,
    items_due,
    run_row,
    start_scheduler,
    stop_all,
    wait_until,
)
from sqlalchemy import func, select, text

from ledger.core.models import Delivery, Notification
from ledger.notify.reminders import LATE_MARK
from schedules import jobs, run_now
from schedules.locks import holder_token

SH = ZoneInfo("Asia/Shanghai")
NOW = "2026-11-16T07:29:58+08:00"
TODAY = "2026-11-16"
PER_DEADLINE = 600
#: deadline → the reminder offsets due on Monday 16th (since the last sweep, Thursday 12th)
DUE = {"2026-11-16": (0, 1), "2026-11-17": (1,), "2026-11-20": (5,), "2026-11-23": (5,)}
#: (deadline, offset) points that fell on Friday 13th, when no sweep ran
LATE = {("2026-11-16", 1), ("2026-11-20", 5)}
GATE = 4242


def reference(items: dict[int, tuple]) -> dict[str, bool]:
    """Every reminder due on the 16th: dedupe key → whether it is a late (caught-up) one."""
    return {f"r:{item}:{deadline}:{offset}:{user}": (deadline, offset) in LATE
            for item, (deadline, user) in items.items() for offset in DUE[deadline]}


def leader_pid(row) -> int:
    """The pid in a run's owner, ``<token>|<host>:<pid>``."""
    return int(row.owner.rpartition(":")[2])


def hold_the_sweep(app):
    """Make the sweep block inside its transaction; returns (wait_blocked, release)."""
    if app.settings.is_sqlite:
        path = app.settings.database_url.removeprefix("sqlite:///")
        raw = sqlite3.connect(path, timeout=0, isolation_level=None)

        def blocked() -> bool:
            """Take the write lock once the run is claimed: the sweep cannot commit now."""
            row = run_row(app, "reminder_sweep", TODAY)
            if row is None:
                return False
            try:
                raw.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:  # someone writes right now: try again
                return False
            outcome = raw.execute("SELECT outcome FROM job_runs WHERE job_id = "
                                  "'reminder_sweep' AND run_key = ?", (TODAY,)).fetchone()[0]
            written = raw.execute("SELECT count(*) FROM notifications").fetchone()[0]
            assert (outcome, written) == ("running", 0), "the sweep ended before it was held"
            return True

        def release() -> None:
            raw.execute("ROLLBACK")
            raw.close()

        return blocked, release

    conn = app.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    conn.execute(text(
        "CREATE FUNCTION test_sweep_gate() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN PERFORM pg_advisory_xact_lock_shared({GATE}); RETURN NULL; END $$"))
    conn.execute(text("CREATE TRIGGER test_sweep_gate AFTER INSERT ON notifications "
                      "FOR EACH STATEMENT EXECUTE FUNCTION test_sweep_gate()"))
    conn.execute(text(f"SELECT pg_advisory_lock({GATE})"))

    def blocked() -> bool:
        """The sweep's first INSERT waits on the gate: mid-transaction, nothing committed."""
        return conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND wait_event = 'advisory'")).scalar() > 0

    def release() -> None:
        conn.execute(text(f"SELECT pg_advisory_unlock({GATE})"))
        conn.close()

    return blocked, release


def test_a_scheduler_killed_mid_sweep_is_recovered_by_the_standby_with_none_lost_or_doubled(
        any_sanhu, any_world, tmp_path):
    items = items_due(any_sanhu, any_world, {d: PER_DEADLINE for d in DUE},
                      dt.datetime(2026, 11, 2, 9, tzinfo=SH))
    with time_machine.travel(dt.datetime(2026, 11, 12, 7, 30, tzinfo=SH), tick=False):
        assert jobs.reminder_sweep(any_sanhu) == "ok"  # Thursday's sweep; none on Friday
    assert count_notifications(any_sanhu) == 0
    expected = reference(items)

    blocked, release = hold_the_sweep(any_sanhu)
    procs = [start_scheduler(any_sanhu, tmp_path, name, NOW) for name in ("a", "b")]
    try:
        wait_until(blocked, 30, "the sweep to be held mid-run", poll=0.005)
        row = run_row(any_sanhu, "reminder_sweep", TODAY)
        leader = next(p for p in procs if p.pid == leader_pid(row))
        standby = next(p for p in procs if p is not leader)
        leader.send_signal(signal.SIGKILL)
        assert leader.wait(10) == -signal.SIGKILL
        release()
        assert count_notifications(any_sanhu) == 0  # the killed run wrote nothing

        done = wait_until(lambda: (r := run_row(any_sanhu, "reminder_sweep", TODAY))
                          and r.outcome == "ok" and r, 40, "the standby to re-run the sweep")
        assert leader_pid(done) == standby.pid and done.attempts == 2
        standby.send_signal(signal.SIGTERM)
        assert standby.wait(10) == 0
    finally:
        stop_all(procs)

    with any_sanhu.uow() as uow:
        notes = uow.session.execute(select(Notification.dedupe_key, Notification.title)).all()
        inbox = uow.session.scalar(select(func.count(Delivery.id)).where(
            Delivery.channel == "inbox"))
    keys = [key for key, _ in notes]
    assert len(keys) == len(expected) == 5 * PER_DEADLINE  # none doubled ...
    assert set(keys) == set(expected)  # ... none lost
    assert {key for key, title in notes if LATE_MARK in title} == \
        {key for key, late in expected.items() if late}
    assert inbox == len(keys)
    standby_log = (tmp_path / ("a.log" if procs[0] is standby else "b.log")).read_text()
    assert "died" in standby_log and "no longer holds the leader lock" in standby_log

    with time_machine.travel(dt.datetime(2026, 11, 16, 10, tzinfo=SH), tick=False):
        assert run_now(any_sanhu, "reminder_sweep") == "ok"  # the reference run, forced
    assert count_notifications(any_sanhu) == len(expected)


def test_sigterm_stops_the_scheduler_within_seconds_and_the_standby_takes_the_lock(
        any_sanhu, tmp_path):
    procs = [start_scheduler(any_sanhu, tmp_path, name, "2026-11-16T10:00:00+08:00")
             for name in ("a", "b")]
    logs = {p: tmp_path / f"{name}.log" for p, name in zip(procs, "ab", strict=True)}

    def acting(p) -> bool:
        return "acting as the scheduler" in logs[p].read_text()

    try:
        leader = wait_until(lambda: next((p for p in procs if acting(p)), None), 30,
                            "a leader")
        standby = next(p for p in procs if p is not leader)
        first = holder_token(any_sanhu)
        assert first is not None
        leader.send_signal(signal.SIGTERM)
        assert leader.wait(10) == 0  # stops within a few seconds (3 s bound; loaded CI) ...
        wait_until(lambda: acting(standby), 10, "the standby to take over")  # ... lock released
        assert holder_token(any_sanhu) not in (None, first)
        assert "scheduler stopped" in logs[leader].read_text()
        standby.send_signal(signal.SIGTERM)
        assert standby.wait(10) == 0
    finally:
        stop_all(procs)


@pytest.mark.postgres
def test_sigterm_stops_a_scheduler_stuck_in_a_database_call(pg_sanhu, tmp_path):
    """The runner waits on a table the test has locked; SIGTERM still ends the process.

    Before, the signal was handled by the thread that was blocked (a Python
    signal handler runs only between bytecodes of the main thread), so the
    scheduler did not stop until the database let go.  PostgreSQL only: on
    SQLite the runner makes no call that can wait (the lock is a flock, its
    reads see the WAL snapshot).
    """
    first = start_scheduler(pg_sanhu, tmp_path, "a", "2026-11-16T10:00:00+08:00")
    try:  # a first leader creates the job store's table, then stops
        wait_until(lambda: "scheduler started" in (tmp_path / "a.log").read_text(), 30,
                   "the first scheduler to start")
        first.send_signal(signal.SIGTERM)
        assert first.wait(10) == 0
    finally:
        stop_all([first])
    with locked_job_store(pg_sanhu) as blocked:
        stuck = start_scheduler(pg_sanhu, tmp_path, "b", "2026-11-16T10:00:00+08:00")
        try:
            wait_until(lambda: "acting as the scheduler" in (tmp_path / "b.log").read_text(),
                       30, "the scheduler to lead")
            wait_until(blocked, 30, "the scheduler to wait on the lock")
            stuck.send_signal(signal.SIGTERM)
            assert stuck.wait(10) == 0  # 3 s bound; generous for a loaded CI machine
        finally:
            stop_all([stuck])
    log = (tmp_path / "b.log").read_text()
    assert "scheduler stopped" in log and "leaving it to the next leader" in log
    assert holder_token(pg_sanhu) is None  # the lock went with the process


@contextlib.contextmanager
def locked_job_store(app):
    """Lock the job store's table in a transaction; yields ``blocked()``."""
    with app.engine.connect() as conn, conn.begin():
        conn.execute(text("LOCK TABLE apscheduler_jobs IN ACCESS EXCLUSIVE MODE"))
        watcher = app.engine.connect()

        def blocked() -> bool:
            """A backend of this test's database (the scheduler's) waits on a lock."""
            return bool(watcher.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()")).scalar())
        try:
            yield blocked
        finally:
            watcher.close()


@pytest.mark.postgres
def test_a_leader_that_loses_its_lock_connection_stops_before_the_standby_starts(pg_sanhu,
                                                                               tmp_path):
    from test_scheduler_processes import heartbeats
    from test_scheduler_processes import start as start_sanhu

    procs = [start_sanhu(pg_sanhu, tmp_path, "a"), start_sanhu(pg_sanhu, tmp_path, "b")]
    try:
        wait_until(lambda: len(heartbeats(pg_sanhu)) >= 3, 30, "the leader's heartbeats")
        old_pid = heartbeats(pg_sanhu)[0][1]
        old = next(p for p in procs if p.pid == old_pid)
        new = next(p for p in procs if p is not old)
        token = holder_token(pg_sanhu)
        with pg_sanhu.engine.connect() as conn:  # the server drops the connection: and the lock
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"),
                                {"pid": int(token.removeprefix("pg:"))}).scalar()
        wait_until(lambda: sum(pid == new.pid for _, pid in heartbeats(pg_sanhu)) >= 3, 30,
                   "the standby's heartbeats")
        assert old.poll() is None  # the old leader lives on, standing by
        for p in procs:
            p.send_signal(signal.SIGTERM)
        assert [p.wait(10) for p in procs] == [0, 0]
    finally:
        stop_all(procs)
    runs = heartbeats(pg_sanhu)
    slots = [slot for slot, _ in runs]
    assert len(slots) == len(set(slots)), "a slot ran in both schedulers"
    assert max(s for s, pid in runs if pid == old.pid) < min(s for s, pid in runs
                                                             if pid == new.pid)
    assert "lost the leader lock" in (tmp_path / ("a.log" if procs[0] is old
                                                  else "b.log")).read_text()




@pytest.mark.postgres
def test_a_leader_that_lost_its_lock_gives_the_standbys_time_before_competing_again(
        pg_sanhu, tmp_path):
    """It backs off for several standby polls instead of grabbing the lock straight back.

    CI saw the old leader win the lock again the moment it noticed the loss
    (its next job run checks the lock, then it competed at once), so the
    standby never led.  Alone, the old leader still leads again, after the pause.
    """
    from test_scheduler_processes import heartbeats
    from test_scheduler_processes import start as start_sanhu

    proc = start_sanhu(pg_sanhu, tmp_path, "a")  # --retry-seconds 0.3: a pause of 1.5 s
    try:
        wait_until(lambda: heartbeats(pg_sanhu), 30, "the leader's heartbeats")
        token = holder_token(pg_sanhu)
        with pg_sanhu.engine.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"),
                                {"pid": int(token.removeprefix("pg:"))}).scalar()
        wait_until(lambda: holder_token(pg_sanhu) not in (None, token), 30,
                   "the process to lead again")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        stop_all([proc])

    def when(line: str) -> dt.datetime:
        return dt.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")

    lines = (tmp_path / "a.log").read_text().splitlines()
    lost = next(i for i, line in enumerate(lines) if "lost the leader lock" in line)
    again = next(line for line in lines[lost:] if "acting as the scheduler" in line)
    assert (when(again) - when(lines[lost])).total_seconds() >= 1.5
