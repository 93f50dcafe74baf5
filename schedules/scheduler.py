"""The APScheduler scheduler of SPEC §9: jobs, triggers, and a start-up that keeps missed runs.

Jobs live in an ``SQLAlchemyJobStore`` on the application's database, with
stable ids and textual references, zone Asia/Shanghai (``SANHU_TIMEZONE``),
``misfire_grace_time`` from the settings (default 6 h; APScheduler's own default
of 1 s would drop a run missed while the scheduler was down), ``coalesce`` and
one instance at a time.

Start-up never drops a missed run: the scheduler starts paused, adds only the
jobs that are missing, reschedules only those whose trigger changed (compared
by ``repr()``, which includes the zone) and then resumes, so a stored
``next_run_time`` in the past is still due and runs once within the grace
window.  (``add_job(..., replace_existing=True)`` would recompute it from now.)
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger.core.settings import Settings
from ledger.instance.bootstrap import Sanhu
from schedules import jobs, runs

log = logging.getLogger("sanhu.scheduler")
JOBSTORE_TABLE = "apscheduler_jobs"


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job: stable id, textual reference, trigger, a name for people."""

    id: str
    func: str
    trigger: BaseTrigger
    name: str


def job_specs(settings: Settings, env: dict[str, str] | None = None) -> list[JobSpec]:
    """The jobs of SPEC §9 (and the test-only heartbeat when ``SANHU_SCHEDULER_TEST_JOB``)."""
    env = os.environ if env is None else env
    zone = settings.zone
    # a fixed start keeps the interval trigger's repr() (and so the stored job) stable
    epoch = dt.datetime(2026, 1, 1, tzinfo=zone)

    def cron(**fields) -> CronTrigger:
        return CronTrigger(timezone=zone, **fields)

    specs = [
        JobSpec("open_village_quarterly", "schedules.jobs:open_village_quarterly",
                cron(month="1,4,7,10", day=1, hour=0, minute=5),
                "开启村级季度观摩周期 (open the village quarterly cycle)"),
        JobSpec("open_township_half_yearly", "schedules.jobs:open_township_half_yearly",
                cron(month="1,7", day=1, hour=0, minute=10),
                "开启乡镇半年观摩周期 (open the township half-yearly cycle)"),
        JobSpec("reminder_sweep", "schedules.jobs:reminder_sweep", cron(hour=7, minute=30),
                "整改时限提醒 (daily deadline reminders)"),
        JobSpec("overdue_digest", "schedules.jobs:overdue_digest", cron(hour=8, minute=0),
                "督查逾期日报 (overdue digest for supervisors)"),
        JobSpec("report_reminders", "schedules.jobs:report_reminders", cron(hour=9, minute=0),
                "季度/半年报告提醒 (report reminders at quarter and half-year end)"),
        JobSpec("results_reminders", "schedules.jobs:results_reminders",
                cron(hour=9, minute=5),
                "排名公示与报送提醒 (ranking, 公示 and report reminders)"),
        JobSpec("observation_sweep", "schedules.jobs:observation_sweep", cron(hour=7, minute=45),
                "观摩进度提醒与逾期标记 (observation reminders and late marking)"),
        JobSpec("dashboard_refresh", "schedules.jobs:dashboard_refresh",
                IntervalTrigger(minutes=10, start_date=epoch, timezone=zone),
                "看板数据汇总 (recount the dashboards)"),
        JobSpec("evidence_gc", "schedules.jobs:evidence_gc", cron(hour=3, minute=30),
                "清理无引用的佐证文件 (remove evidence files nothing references)"),
        JobSpec("deliver", "schedules.jobs:deliver",
                IntervalTrigger(minutes=1, start_date=epoch, timezone=zone),
                "发送邮件和 Webhook (send e-mail and webhook messages)"),
    ]
    test_every = env.get("SANHU_SCHEDULER_TEST_JOB")
    if test_every:
        specs.append(JobSpec("heartbeat", "schedules.jobs:heartbeat",
                             cron(second=f"*/{int(test_every)}"), "test heartbeat"))
    return specs


def build_scheduler(app: Sanhu) -> BackgroundScheduler:
    """A scheduler (not started) on ``app``'s database; the jobs will use ``app``."""
    jobs.use(app)
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=app.engine, tablename=JOBSTORE_TABLE)},
        executors={"default": ThreadPoolExecutor(max_workers=4)},
        job_defaults={"misfire_grace_time": app.settings.scheduler_grace_seconds,
                      "coalesce": True, "max_instances": 1},
        timezone=ZoneInfo(app.settings.timezone),
    )
    scheduler.add_listener(lambda event: _on_missed(app, event), EVENT_JOB_MISSED)
    return scheduler


def _on_missed(app: Sanhu, event: JobExecutionEvent) -> None:
    """A run later than the grace window is not run: record it so the admin page shows it."""
    key_of = jobs.RUN_KEYS.get(event.job_id)
    if key_of is None:
        return
    when = event.scheduled_run_time.astimezone(app.settings.zone)
    log.warning("%s: the run due at %s was missed (later than the grace window)",
                event.job_id, when)
    with app.uow() as uow:
        runs.record_missed(uow, event.job_id, key_of(when.date()),
                           f"due {when:%Y-%m-%d %H:%M %Z}, scheduler was down longer than "
                           f"{app.settings.scheduler_grace_seconds} s")


def sync_jobs(scheduler: BackgroundScheduler, specs: list[JobSpec], grace: int) -> dict:
    """Make the stored jobs match ``specs`` without touching unchanged jobs' next run.

    Returns what was done per job id: added, rescheduled, kept or removed.
    """
    done = {}
    stored = {job.id: job for job in scheduler.get_jobs()}
    for spec in specs:
        job = stored.pop(spec.id, None)
        if job is None:
            scheduler.add_job(spec.func, trigger=spec.trigger, id=spec.id, name=spec.name)
            done[spec.id] = "added"
            continue
        if repr(job.trigger) != repr(spec.trigger) or job.func_ref != spec.func:
            scheduler.modify_job(spec.id, func=spec.func, name=spec.name)
            scheduler.reschedule_job(spec.id, trigger=spec.trigger)
            done[spec.id] = "rescheduled"
            continue
        if (job.misfire_grace_time, job.coalesce, job.max_instances, job.name) != (
                grace, True, 1, spec.name):
            # modify_job keeps next_run_time
            scheduler.modify_job(spec.id, misfire_grace_time=grace, coalesce=True,
                                 max_instances=1, name=spec.name)
        done[spec.id] = "kept"
    for job_id in stored:
        scheduler.remove_job(job_id)
        done[job_id] = "removed"
    return done


def start_scheduler(scheduler: BackgroundScheduler, app: Sanhu,
                    specs: list[JobSpec] | None = None) -> dict:
    """Start paused, sync the jobs, resume: missed runs within the grace window run once."""
    specs = job_specs(app.settings) if specs is None else specs
    scheduler.start(paused=True)
    done = sync_jobs(scheduler, specs, app.settings.scheduler_grace_seconds)
    scheduler.resume()
    log.info("scheduler started: %s", ", ".join(f"{k} {v}" for k, v in done.items()))
    return done


# --- for the admin page and the command line ----------------------------------------


def _stored_next_runs(app: Sanhu) -> dict[str, dt.datetime | None] | None:
    """Next run times from the job store (None when no scheduler ever started)."""
    try:
        with app.engine.connect() as conn:
            rows = conn.execute(text(f"SELECT id, next_run_time FROM {JOBSTORE_TABLE}")).all()
    except DBAPIError:
        return None
    zone = app.settings.zone
    return {job_id: (dt.datetime.fromtimestamp(ts, dt.UTC).astimezone(zone)
                     if ts is not None else None) for job_id, ts in rows}


def trigger_text(trigger: BaseTrigger) -> str:
    """``cron[month='1,4,7,10', day='1', hour='0', minute='5'] Asia/Shanghai``."""
    return f"{trigger} {getattr(trigger, 'timezone', '')}".strip()


def jobs_overview(app: Sanhu) -> list[dict]:
    """Each job: id, name, trigger, next run (from the job store), last run and outcome.

    Works in any process (the web workers too): it reads the database only.
    """
    specs = job_specs(app.settings)
    stored = _stored_next_runs(app)
    now = dt.datetime.now(app.settings.zone)
    with app.uow() as uow:
        last = runs.last_runs(uow, [s.id for s in specs])
    out = []
    for spec in specs:
        run = last.get(spec.id)
        scheduled = stored is not None and spec.id in stored
        out.append({
            "id": spec.id, "name": spec.name, "trigger": trigger_text(spec.trigger),
            "scheduled": scheduled,
            "next_run": (stored[spec.id] if scheduled
                         else spec.trigger.get_next_fire_time(None, now)),
            "last_run_key": run.run_key if run else None,
            "last_started_at": run.started_at if run else None,
            "last_finished_at": run.finished_at if run else None,
            "last_outcome": run.outcome if run else None,
            "last_detail": run.detail if run else None,
        })
    return out


RUNNABLE = {
    "open_village_quarterly": jobs.open_village_quarterly,
    "open_township_half_yearly": jobs.open_township_half_yearly,
    "reminder_sweep": jobs.reminder_sweep,
    "overdue_digest": jobs.overdue_digest,
    "report_reminders": jobs.report_reminders,
    "results_reminders": jobs.results_reminders,
    "observation_sweep": jobs.observation_sweep,
    "dashboard_refresh": jobs.dashboard_refresh,
    "evidence_gc": jobs.evidence_gc,
    "deliver": jobs.deliver,
}


def recover(app: Sanhu, token: str) -> dict[str, str]:
    """On becoming leader: mark ``died`` the runs whose owner is gone and run their jobs again.

    A scheduler killed mid-run leaves its row ``running`` while the stored next
    run has already moved on, so nothing else would run it before tomorrow.
    The job runs again for its current key (today's, for the daily jobs);
    every job is idempotent, and the reminder sweep catches up the points of
    days that did not complete.  Returns each re-run job's outcome.
    """
    with app.uow() as uow:
        dead = runs.reap(uow, holder=token, lapse=jobs.lapse(app))
    done = {}
    for run in dead:
        log.warning("%s %s: the run of %s died (%s); running it again",
                    run.job_id, run.run_key, run.owner, run.why)
        if run.job_id in RUNNABLE and run.job_id not in done:
            try:
                done[run.job_id] = RUNNABLE[run.job_id](app)
            except Exception as exc:  # recorded as failed by the job; the next fire retries
                done[run.job_id] = f"failed: {exc}"
    return done


def run_now(app: Sanhu, job_id: str) -> str:
    """Run a job at once in this process (the admin's "run now"); records ``job_runs``.

    Forced: it runs even if its period already ran ok, which changes nothing
    because every job is idempotent; a run left ``running`` by a process that
    died is marked ``died`` and taken over at once.  Raises ``KeyError`` for an unknown id and
    re-raises the job's own error after recording it as failed.
    """
    return RUNNABLE[job_id](app, force=True)
