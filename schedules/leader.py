"""Exactly one active scheduler per database, the others standing by.

The lock itself is in ``schedules.locks`` (PostgreSQL advisory lock, or a
``flock`` beside an SQLite file).  The leader re-checks its lock every few
seconds and before each job run (on PostgreSQL a query on the lock's own
connection), and steps down as soon as it is lost, before a standby can take
over.  On becoming leader it recovers runs left ``running`` by a dead leader.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from ledger.instance.bootstrap import Sanhu
from schedules import jobs
from schedules.locks import ADVISORY_KEY, FileLock, PgAdvisoryLock, lock_for
from schedules.scheduler import build_scheduler, recover, start_scheduler

__all__ = ["ADVISORY_KEY", "FileLock", "PgAdvisoryLock", "SchedulerRunner", "lock_for"]
log = logging.getLogger("sanhu.scheduler")
#: how often the leader looks at its stop and lost flags (the lock query is less frequent)
TICK = 0.1


class SchedulerRunner:
    """Stand by until the leader lock is ours, then run the scheduler until stopped.

    ``run(stop)`` blocks (the ``sanhu scheduler`` process); ``start()`` runs it in
    a daemon thread (the in-process default of ``sanhu run``).
    """

    def __init__(self, app: Sanhu, *, retry_seconds: float = 5.0,
                 heartbeat_seconds: float = 5.0) -> None:
        self.app = app
        self.retry_seconds = retry_seconds
        self.heartbeat_seconds = heartbeat_seconds
        #: after losing the lock, how long to leave it to the standbys (several of their polls)
        self.step_down_seconds = max(5 * retry_seconds, 1.0)
        self.leading = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self, stop: threading.Event | None = None) -> None:
        stop = stop or self._stop
        lock = lock_for(self.app)
        announced = False
        try:
            while not stop.is_set():
                try:
                    got = lock.acquire()
                except Exception as exc:  # the database is unreachable: retry later
                    log.warning("scheduler: cannot reach the database for the lock: %s", exc)
                    got = False
                if not got:
                    if not announced:
                        log.info("scheduler %s: another scheduler is active; standing by",
                                 os.getpid())
                        announced = True
                    stop.wait(self.retry_seconds)
                    continue
                announced = False
                try:
                    if self._lead(lock, stop):
                        # Lost, not stopped: whatever took the lock's connection may be
                        # this process's trouble, so a healthy standby takes over first.
                        # Competing again at once won the lock back before them.
                        stop.wait(self.step_down_seconds)
                except Exception:  # e.g. the database went away while starting: try again
                    log.exception("scheduler %s: failed; retrying", os.getpid())
                    stop.wait(self.retry_seconds)
        finally:
            lock.close()

    def _lead(self, lock, stop: threading.Event) -> bool:
        """Run the scheduler while the lock holds; True if it was lost (not stopped)."""
        log.info("scheduler %s: acting as the scheduler", os.getpid())
        lost = threading.Event()
        guard = threading.Lock()

        def holds() -> bool:
            """Before each job run: still the leader?  If not, step down now."""
            with guard:
                if lost.is_set() or stop.is_set():
                    return False
                if not lock.alive():
                    lost.set()
                return not lost.is_set()

        scheduler = build_scheduler(self.app)
        try:
            jobs.lead(lock.token, holds)
            start_scheduler(scheduler, self.app)
            self.leading.set()
            threading.Thread(target=self._recover, args=(lock.token,), daemon=True,
                             name="sanhu-recover").start()
            checked = time.monotonic()
            while not stop.wait(TICK) and not lost.is_set():
                if time.monotonic() - checked >= self.heartbeat_seconds:
                    checked = time.monotonic()
                    holds()
            if lost.is_set():
                log.warning("scheduler %s: lost the leader lock; standing by", os.getpid())
            return lost.is_set()
        finally:
            jobs.step_down()
            self.leading.clear()
            if scheduler.running:
                # a run in progress is not waited for: it is recovered by the next leader
                scheduler.shutdown(wait=False)
            lock.release()
            log.info("scheduler %s: stopped acting", os.getpid())

    def _recover(self, token: str) -> None:
        try:
            done = recover(self.app, token)
        except Exception:
            log.exception("scheduler %s: recovering dead runs failed", os.getpid())
            return
        if done:
            log.info("scheduler %s: re-ran %s", os.getpid(), done)

    def start(self) -> SchedulerRunner:
        self._thread = threading.Thread(target=self.run, name="sanhu-scheduler", daemon=True)
        self._thread.start()
        return self

    def alive(self) -> bool:
        """Whether the thread started by ``start()`` still runs."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float | None = 30) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)


_IN_PROCESS: SchedulerRunner | None = None
_GUARD = threading.Lock()


def is_reloader_parent(env: dict[str, str]) -> bool:
    """True in the watching parent of Flask's/Werkzeug's reloader (its child runs the app).

    ``flask run --debug`` reloads: the parent has FLASK_RUN_FROM_CLI=true and
    FLASK_DEBUG=1 but not WERKZEUG_RUN_MAIN, which only the serving child has.
    """
    return (env.get("FLASK_RUN_FROM_CLI") == "true" and env.get("FLASK_DEBUG") in ("1", "true")
            and env.get("WERKZEUG_RUN_MAIN") != "true")


def start_in_process(app: Sanhu, env: dict[str, str] | None = None) -> SchedulerRunner | None:
    """Run the scheduler in this process, once: later calls return the same runner.

    Not in a reloader's parent process.  If another process (``sanhu scheduler``
    or a second web process) already leads, this one stands by.
    """
    global _IN_PROCESS
    env = os.environ if env is None else env
    if is_reloader_parent(env):
        return None
    with _GUARD:
        if _IN_PROCESS is None:
            _IN_PROCESS = SchedulerRunner(app).start()
        return _IN_PROCESS


def stop_in_process() -> None:
    global _IN_PROCESS
    with _GUARD:
        if _IN_PROCESS is not None:
            _IN_PROCESS.stop()
            _IN_PROCESS = None
