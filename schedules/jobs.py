"""The scheduled jobs: each opens a unit of work and calls one ledger service.

APScheduler stores them by textual reference (``schedules.jobs:reminder_sweep``)
and calls them without arguments; they then use the process's ``Sanhu``, set
by ``use()`` when the scheduler is built (or bootstrapped from the
environment).  Every run is recorded in ``job_runs`` under a key — the period
or the day — and a key that already ran ``ok`` is skipped, so a job run twice
for the same period changes nothing.  ``app``/``force`` serve "run now".

A run is owned: by the leader (its lock token, set by ``lead()``) when the
scheduler runs it, else by a one-off token; its heartbeat is refreshed every
``scheduler_heartbeat_seconds`` while it works.  Before claiming, a run marks
``died`` the rows of its job whose owner is gone (``runs.reap``), so a run
killed mid-way is re-run at once rather than after an hour.  The leader checks
it still holds the lock before each run and does not run when it lost it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from ledger.calendar.periods import period_for
from ledger.core.evidence_gc import collect_garbage
from ledger.core.models import CycleKind
from ledger.core.settings import Settings
from ledger.dashboard import summary as dashboard_summary
from ledger.instance.bootstrap import Sanhu, bootstrap
from ledger.notify import reminders
from ledger.notify.delivery import deliver_now, pass_bound
from ledger.observations import coverage
from ledger.observations.cycles import open_cycle
from ledger.results.reminders import results_reminders as results_reminders_service
from schedules import locks, runs

log = logging.getLogger("sanhu.jobs")
_APP: Sanhu | None = None


@dataclass(frozen=True)
class Leadership:
    """This process leads: its lock token, and how to check it still holds the lock."""

    token: str
    holds: Callable[[], bool]


_LEADER: Leadership | None = None


def lead(token: str, holds: Callable[[], bool]) -> None:
    """Called by the runner on becoming leader: scheduled runs are owned by ``token``."""
    global _LEADER
    _LEADER = Leadership(token, holds)


def step_down() -> None:
    global _LEADER
    _LEADER = None


def use(app: Sanhu) -> None:
    """Make ``app`` the ledger the jobs of this process work on."""
    global _APP
    _APP = app


def current_app() -> Sanhu:
    global _APP
    if _APP is None:
        _APP = bootstrap()
    return _APP


def today(app: Sanhu) -> dt.date:
    """Today in the configured zone (moved by time-machine in tests)."""
    return dt.datetime.now(dt.UTC).astimezone(app.settings.zone).date()


def lapse(app: Sanhu) -> dt.timedelta:
    """A running row without a heartbeat for this long has lost its process."""
    return dt.timedelta(seconds=3 * app.settings.scheduler_heartbeat_seconds)


def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _heartbeat(app: Sanhu, job_id: str, run_key: str, owner: str) -> threading.Event:
    """Refresh the run's heartbeat in a thread until the returned event is set."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(app.settings.scheduler_heartbeat_seconds):
            try:
                with app.uow() as uow:
                    runs.beat(uow, job_id, run_key, owner)
            except Exception as exc:  # a busy SQLite or a blip: the next beat may succeed
                log.warning("%s %s: heartbeat failed: %s", job_id, run_key, exc)

    threading.Thread(target=beat, name=f"beat-{job_id}", daemon=True).start()
    return done


def _run(app: Sanhu, job_id: str, run_key: str, work: Callable[[], object], *,
         force: bool = False, stale: dt.timedelta = dt.timedelta(hours=1)) -> str:
    """Claim the run, do the work, record the outcome; returns ok or skipped (or raises)."""
    leader = _LEADER if not force else None
    if leader is not None:
        if not leader.holds():
            log.warning("%s %s: not run, this scheduler lost the leader lock", job_id, run_key)
            return "skipped"
        owner, holder = f"{leader.token}|{_me()}", leader.token
    else:
        owner, holder = f"run:{uuid.uuid4().hex[:12]}|{_me()}", locks.holder_token(app)
    with app.uow() as uow:
        for dead in runs.reap(uow, holder=holder, lapse=lapse(app), job_id=job_id):
            log.warning("%s %s: the run of %s died (%s)", job_id, run_key, dead.owner, dead.why)
        if not runs.begin_run(uow, job_id, run_key, owner=owner, force=force, stale=stale):
            log.info("%s %s: already done or running, skipped", job_id, run_key)
            return "skipped"
    beating = _heartbeat(app, job_id, run_key, owner)
    try:
        detail = work()
    except Exception as exc:
        beating.set()
        with app.uow() as uow:
            runs.finish_run(uow, job_id, run_key, "failed", f"{type(exc).__name__}: {exc}",
                            owner=owner)
        raise
    beating.set()
    with app.uow() as uow:
        runs.finish_run(uow, job_id, run_key, "ok", str(detail), owner=owner)
    log.info("%s %s: ok %s", job_id, run_key, detail)
    return "ok"


def _with_uow(app: Sanhu, service, *args):
    def work():
        with app.uow() as uow:
            return service(uow, *args)
    return work


def _open(kind: CycleKind, job_id: str, app: Sanhu | None, force: bool) -> str:
    app = app or current_app()
    period = period_for(kind.value, today(app))
    return _run(app, job_id, period, _with_uow(app, open_cycle, kind.value, period), force=force)


def open_village_quarterly(app: Sanhu | None = None, force: bool = False) -> str:
    """1 January, April, July, October: open the quarter's village observation cycle."""
    return _open(CycleKind.VILLAGE_QUARTERLY, "open_village_quarterly", app, force)


def open_township_half_yearly(app: Sanhu | None = None, force: bool = False) -> str:
    """1 January and 1 July: open the half-year's township observation cycle."""
    return _open(CycleKind.TOWNSHIP_HALF_YEARLY, "open_township_half_yearly", app, force)


def _daily(job_id: str, service, app: Sanhu | None, force: bool) -> str:
    app = app or current_app()
    day = today(app)
    return _run(app, job_id, day.isoformat(), _with_uow(app, service, day), force=force)


def reminder_sweep(app: Sanhu | None = None, force: bool = False) -> str:
    """Daily: deadline reminders at every offset (see ``ledger.notify.reminders``).

    Points that fell on days no sweep completed since the last good one are
    caught up (marked late), so a day lost to a crash is not lost to people.
    """
    app = app or current_app()
    day = today(app)

    def work():
        with app.uow() as uow:
            last = runs.last_ok_key(uow, "reminder_sweep", day.isoformat())
            since = dt.date.fromisoformat(last) if last else None
            return reminders.reminder_sweep(uow, day, since=since)

    return _run(app, "reminder_sweep", day.isoformat(), work, force=force)


def overdue_digest(app: Sanhu | None = None, force: bool = False) -> str:
    """Daily: each supervisor's count of overdue items in scope."""
    return _daily("overdue_digest", reminders.overdue_digest, app, force)


def report_reminders(app: Sanhu | None = None, force: bool = False) -> str:
    """Daily check: quarter-end and half-year-end report reminders when due."""
    return _daily("report_reminders", reminders.report_reminders, app, force)


def results_reminders(app: Sanhu | None = None, force: bool = False) -> str:
    """Daily: rankings not published, 公示 periods ending, upward reports due."""
    return _daily("results_reminders", results_reminders_service, app, force)


def observation_sweep(app: Sanhu | None = None, force: bool = False) -> str:
    """Daily: mark observations of ended periods late, remind the unfinished before the end."""
    app = app or current_app()
    day = today(app)

    def work() -> dict:
        with app.uow() as uow:
            late = coverage.mark_late(uow, day)
            reminded = coverage.remind_unfinished(uow, day)
        return {"late": late, "reminded": reminded.total}

    return _run(app, "observation_sweep", day.isoformat(), work, force=force)


def dashboard_refresh(app: Sanhu | None = None, force: bool = False) -> str:
    """Every few minutes: recount the dashboards' summary tables from the ledger."""
    app = app or current_app()

    def work() -> dict:
        with app.uow() as uow:
            done = dashboard_summary.refresh(uow)
        return {"units": done.units, "seconds": round(done.seconds, 2)}

    return _run(app, "dashboard_refresh", "latest", work, force=True,
                stale=dt.timedelta(minutes=30))


def evidence_gc(app: Sanhu | None = None, force: bool = False) -> str:
    """Daily: remove evidence blobs nothing references and stale uploads (a day old)."""
    app = app or current_app()
    day = today(app)

    def work() -> dict:
        with app.uow() as uow:
            return collect_garbage(uow)

    return _run(app, "evidence_gc", day.isoformat(), work, force=force)


def deliver_stale(settings: Settings) -> dt.timedelta:
    """When a ``deliver`` run still marked running is taken as dead (say ``kill -9``): a
    little after the longest a pass can take, so the next pass follows within minutes."""
    return pass_bound(settings.delivery_deadline_seconds) + dt.timedelta(seconds=30)


def deliver(app: Sanhu | None = None, force: bool = False) -> str:
    """Every minute: send due e-mail and webhook deliveries (retries included)."""
    app = app or current_app()
    return _run(app, "deliver", "latest", lambda: deliver_now(app.uow), force=True,
                stale=deliver_stale(app.settings))


def heartbeat(app: Sanhu | None = None, force: bool = False) -> str:
    """Test-only job (``SANHU_SCHEDULER_TEST_JOB``): one job_runs row per run and process.

    The key is the fire slot and the process id, so a run done twice (by two
    schedulers) would show as two rows for one slot.
    """
    app = app or current_app()
    now = dt.datetime.now(dt.UTC)
    every = max(1, int(os.environ.get("SANHU_SCHEDULER_TEST_JOB") or 2))
    slot = int(now.timestamp()) // every * every
    return _run(app, "heartbeat", f"{slot}:{os.getpid()}", lambda: os.getpid())


#: how a scheduled fire time maps to the run key (for runs recorded as missed)
RUN_KEYS: dict[str, Callable[[dt.date], str]] = {
    "open_village_quarterly": lambda d: period_for(CycleKind.VILLAGE_QUARTERLY.value, d),
    "open_township_half_yearly": lambda d: period_for(CycleKind.TOWNSHIP_HALF_YEARLY.value, d),
    "reminder_sweep": dt.date.isoformat,
    "overdue_digest": dt.date.isoformat,
    "report_reminders": dt.date.isoformat,
    "results_reminders": dt.date.isoformat,
    "observation_sweep": dt.date.isoformat,
    "evidence_gc": dt.date.isoformat,
}
