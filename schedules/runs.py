"""Job runs: the record that makes each scheduled job idempotent and shows its outcome.

A run is claimed by inserting ``(job_id, run_key)`` (unique) as ``running``,
stamped with its owner and a heartbeat the owner refreshes while it works.
A key that already ran ``ok`` is not run again unless forced (the admin's
"run now"); a ``failed``, ``missed`` or ``died`` one may be retried.  A
``running`` row whose owner is gone — a leader's run whose lock holding has
ended, or any run whose heartbeat lapsed — is marked ``died`` by ``reap`` and
so becomes retryable at once.  Each function is a small service: it commits
its own unit of work.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update

from ledger.core.db import dialect_insert
from ledger.core.models import JobRun
from ledger.core.uow import UnitOfWork
from schedules.locks import LEADER_PREFIXES

KEEP = {"preserve_rowcount": True}


def begin_run(uow: UnitOfWork, job_id: str, run_key: str, *, owner: str | None = None,
              force: bool = False, stale: dt.timedelta = dt.timedelta(hours=1)) -> bool:
    """Claim the run of ``job_id`` for ``run_key``; False when it must not run now.

    ``stale`` only concerns rows without a heartbeat (written before heartbeats
    existed); ``reap`` handles the others.
    """
    now = uow.now()
    ins = dialect_insert(uow.session, JobRun.__table__).values(
        job_id=job_id, run_key=run_key, outcome="running", started_at=now, attempts=1,
        owner=owner, heartbeat_at=now,
    ).on_conflict_do_nothing(index_elements=["job_id", "run_key"])
    if uow.session.execute(ins.execution_options(**KEEP)).rowcount == 1:
        uow.commit()
        return True
    may_retry = [JobRun.outcome.in_(("failed", "missed", "died")),
                 (JobRun.outcome == "running") & JobRun.heartbeat_at.is_(None)
                 & (JobRun.started_at < now - stale)]
    if force:
        may_retry.append(JobRun.outcome != "running")
    claimed = uow.session.execute(
        update(JobRun)
        .where(JobRun.job_id == job_id, JobRun.run_key == run_key, or_(*may_retry))
        .values(outcome="running", started_at=now, finished_at=None, detail=None,
                attempts=JobRun.attempts + 1, owner=owner, heartbeat_at=now)
        .execution_options(**KEEP)).rowcount == 1
    uow.commit()
    return claimed


def beat(uow: UnitOfWork, job_id: str, run_key: str, owner: str | None) -> bool:
    """Refresh the heartbeat of a run this owner is doing; False if it is no longer its."""
    done = uow.session.execute(
        update(JobRun).where(JobRun.job_id == job_id, JobRun.run_key == run_key,
                             JobRun.outcome == "running", JobRun.owner == owner)
        .values(heartbeat_at=uow.now()).execution_options(**KEEP)).rowcount == 1
    uow.commit()
    return done


@dataclass(frozen=True)
class DeadRun:
    """A run found ``running`` whose owner is gone, now marked ``died``."""

    job_id: str
    run_key: str
    owner: str | None
    why: str


def _why_dead(run: JobRun, holder: str | None, lapsed_before: dt.datetime) -> str | None:
    owner = run.owner or ""
    if owner.startswith(LEADER_PREFIXES) and not owner.startswith(f"{holder}|"):
        return "its scheduler no longer holds the leader lock"
    beat_at = run.heartbeat_at or run.started_at
    if beat_at.tzinfo is None:  # SQLite returns naive UTC
        beat_at = beat_at.replace(tzinfo=dt.UTC)
    if run.heartbeat_at is not None and beat_at < lapsed_before:
        return f"no heartbeat since {beat_at:%Y-%m-%d %H:%M:%S} UTC"
    return None


def reap(uow: UnitOfWork, *, holder: str | None, lapse: dt.timedelta,
         job_id: str | None = None) -> list[DeadRun]:
    """Mark ``died`` every ``running`` row (of ``job_id``, or all) whose owner is gone.

    ``holder`` is the token of the current leader-lock holding (None: nobody
    leads).  A row changed meanwhile (a fresh heartbeat, a finish) is left
    alone: each update is conditional on what was read.
    """
    now = uow.now()
    q = select(JobRun).where(JobRun.outcome == "running")
    if job_id is not None:
        q = q.where(JobRun.job_id == job_id)
    dead = []
    for run in uow.session.scalars(q).all():
        why = _why_dead(run, holder, now - lapse)
        if why is None:
            continue
        same = (JobRun.heartbeat_at.is_(None) if run.heartbeat_at is None
                else JobRun.heartbeat_at == run.heartbeat_at)
        marked = uow.session.execute(
            update(JobRun).where(JobRun.id == run.id, JobRun.outcome == "running", same)
            .values(outcome="died", finished_at=now,
                    detail=f"died: {why} (owner {run.owner})"[:4000])
            .execution_options(**KEEP)).rowcount == 1
        if marked:
            dead.append(DeadRun(run.job_id, run.run_key, run.owner, why))
    uow.commit()
    return dead


def last_ok_key(uow: UnitOfWork, job_id: str, before: str) -> str | None:
    """The greatest key below ``before`` that ran ``ok`` (daily keys are ISO dates)."""
    return uow.session.scalar(select(func.max(JobRun.run_key)).where(
        JobRun.job_id == job_id, JobRun.outcome == "ok", JobRun.run_key < before))


def finish_run(uow: UnitOfWork, job_id: str, run_key: str, outcome: str,
               detail: str | None = None, *, owner: str | None = None) -> None:
    """Record how the claimed run ended (``ok`` or ``failed``).

    Only while the row is still this owner's: a run taken over after it was
    thought dead does not overwrite its successor's outcome.
    """
    mine = JobRun.owner.is_(None) if owner is None else JobRun.owner == owner
    uow.session.execute(update(JobRun).where(JobRun.job_id == job_id,
                                             JobRun.run_key == run_key, mine)
                        .values(outcome=outcome, finished_at=uow.now(), heartbeat_at=None,
                                detail=(detail or "")[:4000] or None))
    uow.commit()


def record_missed(uow: UnitOfWork, job_id: str, run_key: str, detail: str) -> None:
    """Note a run the scheduler skipped (later than the grace window), unless it ran."""
    now = uow.now()
    uow.session.execute(dialect_insert(uow.session, JobRun.__table__).values(
        job_id=job_id, run_key=run_key, outcome="missed", started_at=now, finished_at=now,
        attempts=0, detail=detail,
    ).on_conflict_do_nothing(index_elements=["job_id", "run_key"]))
    uow.commit()


def last_runs(uow: UnitOfWork, job_ids: list[str]) -> dict[str, JobRun]:
    """The latest run of each job (by start time)."""
    out: dict[str, JobRun] = {}
    for job_id in job_ids:
        run = uow.session.scalars(select(JobRun).where(JobRun.job_id == job_id)
                                  .order_by(JobRun.started_at.desc(), JobRun.id.desc())
                                  .limit(1)).first()
        if run is not None:
            out[job_id] = run
    return out
