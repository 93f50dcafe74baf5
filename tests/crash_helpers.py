"""Helpers of the crash tests: many items at chosen deadlines, real scheduler processes.

A scheduler process is the real ``sanhu scheduler`` command started through
``scheduler_child.py``, which moves that process's clock to ``SANHU_TEST_NOW``
with time-machine (time-machine does not cross process boundaries).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

from announce_helpers import forget_announcements
from sqlalchemy import func, insert, select

from ledger.core.models import Item, JobRun, Notification
from ledger.items import services

CHILD = str(Path(__file__).with_name("scheduler_child.py"))


def items_due(app, world, deadlines: dict[str, int], when: dt.datetime) -> dict[int, tuple]:
    """``count`` open items per deadline (one made by the services, the rest copies).

    Returns item id → (deadline, responsible user id).
    """
    import time_machine

    out = {}
    for deadline, count in deadlines.items():
        village = "V111"
        with time_machine.travel(when, tick=False):
            with app.uow() as uow:
                item = services.record_finding(uow, world["town_T11"],
                                               unit_id=world.units[village].id,
                                               description="三会一课记录不全")
            with app.uow() as uow:
                services.assign(uow, item.id, world["town_T11"],
                                responsible_user_id=world[f"sec_{village}"].id,
                                category="deadline",
                                deadline=dt.date.fromisoformat(deadline))
        forget_announcements(app)
        with app.uow() as uow:
            row = dict(uow.session.execute(select(Item.__table__).where(
                Item.id == item.id)).mappings().one())
            row.pop("id")
            copies = [{**row, "number": f"{row['number']}-{n}"} for n in range(1, count)]
            if copies:
                uow.session.execute(insert(Item.__table__), copies)
            uow.commit()
            ids = uow.session.scalars(select(Item.id).where(
                Item.deadline == dt.date.fromisoformat(deadline))).all()
        out.update({i: (deadline, row["responsible_user_id"]) for i in ids})
    return out


def notification_keys(app) -> list[str]:
    with app.uow() as uow:
        return list(uow.session.scalars(select(Notification.dedupe_key)))


def run_row(app, job_id: str, run_key: str) -> JobRun | None:
    with app.uow() as uow:
        row = uow.session.scalars(select(JobRun).where(JobRun.job_id == job_id,
                                                       JobRun.run_key == run_key)).first()
        if row is not None:
            uow.session.expunge(row)
        return row


def count_notifications(app) -> int:
    with app.uow() as uow:
        return uow.session.scalar(select(func.count(Notification.id)))


def wait_until(predicate, timeout: float, what: str = "the condition", poll: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out waiting for {what}")


def start_scheduler(app, tmp_path: Path, name: str, now: str,
                    heartbeat_seconds: int = 1) -> subprocess.Popen:
    """A real ``sanhu scheduler`` process whose clock starts at ``now``."""
    env = {**os.environ, "SANHU_DATABASE_URL": app.settings.database_url,
           "SANHU_EVIDENCE_DIR": str(tmp_path / "ev"), "SANHU_TEST_NOW": now,
           "SANHU_SCHEDULER_HEARTBEAT_SECONDS": str(heartbeat_seconds)}
    env.pop("SANHU_SCHEDULER_TEST_JOB", None)
    with open(tmp_path / f"{name}.log", "wb") as log:  # the child keeps its own copy
        return subprocess.Popen([sys.executable, CHILD, "--retry-seconds", "0.3"], env=env,
                                stdout=log, stderr=subprocess.STDOUT)


def stop_all(procs) -> None:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait(10)
