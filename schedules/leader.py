"""Exactly one active scheduler per database, the others standing by.

PostgreSQL: a session-level ``pg_try_advisory_lock`` held on a dedicated
connection for as long as the process leads; the server releases it when that
connection ends (a clean stop, a crash or a kill), and a standby, retrying
every few seconds, takes over.  SQLite: an exclusive ``flock`` on a file beside
the database (an SQLite database lives on one machine); the kernel releases it
when the process ends.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from ledger.core.db import normalise_url
from ledger.instance.bootstrap import Sanhu
from schedules.scheduler import build_scheduler, start_scheduler

log = logging.getLogger("sanhu.scheduler")
#: the advisory lock key: "Sanhu" in ASCII
ADVISORY_KEY = 0x53616E6875


class PgAdvisoryLock:
    """Leadership = holding ``pg_try_advisory_lock(ADVISORY_KEY)`` on one connection."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(normalise_url(url), poolclass=NullPool,
                                    isolation_level="AUTOCOMMIT")
        self.conn = None

    def acquire(self) -> bool:
        conn = self.engine.connect()
        try:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                               {"k": ADVISORY_KEY}).scalar()
        except Exception:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self.conn = conn
        return True

    def alive(self) -> bool:
        """Still holding it? (False when the connection to the server was lost.)"""
        try:
            self.conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def release(self) -> None:
        if self.conn is None:
            return
        try:
            self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
        except Exception:  # the connection is gone, and the lock with it
            pass
        finally:
            self.conn.close()
            self.conn = None

    def close(self) -> None:
        self.release()
        self.engine.dispose()


class FileLock:
    """Leadership = an exclusive ``flock`` on ``path`` (POSIX)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self) -> bool:
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return True

    def alive(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        if self.fd is None:
            return
        import fcntl

        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None

    def close(self) -> None:
        self.release()


def lock_for(app: Sanhu) -> PgAdvisoryLock | FileLock:
    """The leader lock for ``app``'s database."""
    url = make_url(normalise_url(app.settings.database_url))
    if url.get_backend_name() == "postgresql":
        return PgAdvisoryLock(app.settings.database_url)
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return FileLock(Path(tempfile.gettempdir()) / "sanhu-scheduler.lock")
    return FileLock(Path(database).resolve().with_name(Path(database).name + ".scheduler.lock"))


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
                    self._lead(lock, stop)
                except Exception:  # e.g. the database went away while starting: try again
                    log.exception("scheduler %s: failed; retrying", os.getpid())
                    stop.wait(self.retry_seconds)
        finally:
            lock.close()

    def _lead(self, lock, stop: threading.Event) -> None:
        log.info("scheduler %s: acting as the scheduler", os.getpid())
        scheduler = build_scheduler(self.app)
        try:
            start_scheduler(scheduler, self.app)
            self.leading.set()
            while not stop.wait(self.heartbeat_seconds):
                if not lock.alive():
                    log.warning("scheduler %s: lost the leader lock; standing by", os.getpid())
                    break
        finally:
            self.leading.clear()
            if scheduler.running:
                scheduler.shutdown(wait=True)
            lock.release()
            log.info("scheduler %s: stopped acting", os.getpid())

    def start(self) -> SchedulerRunner:
        self._thread = threading.Thread(target=self.run, name="sanhu-scheduler", daemon=True)
        self._thread.start()
        return self

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
