"""Two real ``sanhu scheduler`` processes on one PostgreSQL database: one acts, one stands by.

A test-only job (``SANHU_SCHEDULER_TEST_JOB=1``) fires every second and writes
a job_runs row keyed by its fire slot and process id, so a slot run by both
processes would show up twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from ledger.core.models import JobRun

pytestmark = pytest.mark.postgres
SANHU = str(Path(sys.executable).with_name("sanhu"))


def heartbeats(app) -> list[tuple[int, int]]:
    with app.uow() as uow:
        keys = uow.session.scalars(select(JobRun.run_key).where(
            JobRun.job_id == "heartbeat", JobRun.outcome == "ok")).all()
    return sorted(tuple(int(p) for p in key.split(":")) for key in keys)


def wait_until(predicate, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def start(app, tmp_path, name: str) -> subprocess.Popen:
    env = {**os.environ, "SANHU_DATABASE_URL": app.settings.database_url,
           "SANHU_EVIDENCE_DIR": str(tmp_path / "ev"), "SANHU_SCHEDULER_TEST_JOB": "1"}
    with open(tmp_path / f"{name}.log", "wb") as log:  # the child keeps its own copy
        return subprocess.Popen([SANHU, "scheduler", "--retry-seconds", "0.3"], env=env,
                                stdout=log, stderr=subprocess.STDOUT)


def test_two_scheduler_processes_run_each_job_once_and_the_standby_takes_over(pg_sanhu,
                                                                           tmp_path):
    procs = [start(pg_sanhu, tmp_path, "a"), start(pg_sanhu, tmp_path, "b")]
    try:
        wait_until(lambda: len(heartbeats(pg_sanhu)) >= 4, 30)
        leader_pid = heartbeats(pg_sanhu)[0][1]
        leader = next(p for p in procs if p.pid == leader_pid)
        standby = next(p for p in procs if p is not leader)
        time.sleep(1.5)
        assert {pid for _, pid in heartbeats(pg_sanhu)} == {leader.pid}

        leader.send_signal(signal.SIGKILL)  # a crash: the server drops its advisory lock
        leader.wait(10)
        killed_at = time.time()
        wait_until(lambda: sum(pid == standby.pid for _, pid in heartbeats(pg_sanhu)) >= 3, 30)

        standby.send_signal(signal.SIGTERM)
        assert standby.wait(20) == 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)
    runs = heartbeats(pg_sanhu)
    slots = Counter(slot for slot, _ in runs)
    assert max(slots.values()) == 1, "a fire time ran twice"
    assert {pid for _, pid in runs} == {leader.pid, standby.pid}
    assert min(slot for slot, pid in runs if pid == standby.pid) >= int(killed_at) - 1
    output = (tmp_path / ("a.log" if procs[0] is standby else "b.log")).read_text()
    assert "standing by" in output and "acting as the scheduler" in output
    assert "scheduler stopped" in output
