"""Job runs: the record that makes each scheduled job idempotent and shows its outcome.

A run is claimed by inserting ``(job_id, run_key)`` (unique) as ``running``;
a key that already ran ``ok`` is not run again unless forced (the admin's
"run now"), a ``failed`` or ``missed`` one may be retried, and a ``running``
row older than ``stale`` (its process died) is taken over.  Each function is a
small service: it commits its own unit of work.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select, update

from ledger.core.db import dialect_insert
from ledger.core.models import JobRun
from ledger.core.uow import UnitOfWork

KEEP = {"preserve_rowcount": True}


def begin_run(uow: UnitOfWork, job_id: str, run_key: str, *, force: bool = False,
              stale: dt.timedelta = dt.timedelta(hours=1)) -> bool:
    """Claim the run of ``job_id`` for ``run_key``; False when it must not run now."""
    now = uow.now()
    ins = dialect_insert(uow.session, JobRun.__table__).values(
        job_id=job_id, run_key=run_key, outcome="running", started_at=now, attempts=1,
    ).on_conflict_do_nothing(index_elements=["job_id", "run_key"])
    if uow.session.execute(ins.execution_options(**KEEP)).rowcount == 1:
        uow.commit()
        return True
    may_retry = [JobRun.outcome.in_(("failed", "missed")),
                 (JobRun.outcome == "running") & (JobRun.started_at < now - stale)]
    if force:
        may_retry.append(JobRun.outcome != "running")
    claimed = uow.session.execute(
        update(JobRun)
        .where(JobRun.job_id == job_id, JobRun.run_key == run_key, or_(*may_retry))
        .values(outcome="running", started_at=now, finished_at=None, detail=None,
                attempts=JobRun.attempts + 1)
        .execution_options(**KEEP)).rowcount == 1
    uow.commit()
    return claimed


def finish_run(uow: UnitOfWork, job_id: str, run_key: str, outcome: str,
               detail: str | None = None) -> None:
    """Record how the claimed run ended (``ok`` or ``failed``)."""
    uow.session.execute(update(JobRun).where(JobRun.job_id == job_id,
                                             JobRun.run_key == run_key)
                        .values(outcome=outcome, finished_at=uow.now(),
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
