"""The leader lock: who may act as the scheduler, and who holds it now.

PostgreSQL: a session-level ``pg_try_advisory_lock`` held on a dedicated
connection for as long as the process leads; the server releases it when that
connection ends (a clean stop, a crash, a kill or ``pg_terminate_backend``).
SQLite: an exclusive ``flock`` on a file beside the database (an SQLite
database lives on one machine); the kernel releases it when the process ends.

Each holding has a *token* (``pg:<backend pid>`` or ``flock:<pid>``) that any
process can read back with ``holder_token(app)``: a job run stamped with a
leader's token whose holding is gone was left behind by a dead leader.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from ledger.core.db import normalise_url
from ledger.instance.bootstrap import Sanhu

#: the advisory lock key: "Sanhu" in ASCII
ADVISORY_KEY = 0x53616E6875
#: the prefixes of the tokens of leader holdings (anything else ran outside the leader)
LEADER_PREFIXES = ("pg:", "flock:")
_HOLDER_SQL = text(
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND classid = CAST(:hi AS oid) AND objid = CAST(:lo AS oid) AND objsubid = 1")


class PgAdvisoryLock:
    """Leadership = holding ``pg_try_advisory_lock(ADVISORY_KEY)`` on one connection."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(normalise_url(url), poolclass=NullPool,
                                    isolation_level="AUTOCOMMIT")
        self.conn = None
        self.token: str | None = None
        self._mutex = threading.Lock()  # the runner and the job threads share the connection

    def acquire(self) -> bool:
        conn = self.engine.connect()
        try:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                               {"k": ADVISORY_KEY}).scalar()
            backend = conn.execute(text("SELECT pg_backend_pid()")).scalar() if got else None
        except Exception:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self.conn, self.token = conn, f"pg:{backend}"
        return True

    def alive(self) -> bool:
        """Still holding it?  A query on the lock's own connection: False once it is lost."""
        with self._mutex:
            if self.conn is None:
                return False
            try:
                return self.conn.execute(text(
                    "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() "
                    "AND locktype = 'advisory' AND granted AND objid = CAST(:lo AS oid)"),
                    {"lo": ADVISORY_KEY & 0xFFFFFFFF}).scalar() == 1
            except Exception:
                return False

    def release(self) -> None:
        with self._mutex:
            if self.conn is None:
                return
            try:
                self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
            except Exception:  # the connection is gone, and the lock with it
                pass
            finally:
                try:
                    self.conn.close()
                except Exception:  # a terminated one may not close cleanly: drop it hard
                    with contextlib.suppress(Exception):
                        self.conn.invalidate()
                self.conn, self.token = None, None

    def close(self) -> None:
        self.release()
        self.engine.dispose()


class FileLock:
    """Leadership = an exclusive ``flock`` on ``path`` (POSIX); the file holds the pid."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None
        self.token: str | None = None

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
        self.fd, self.token = fd, f"flock:{os.getpid()}"
        return True

    def alive(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        if self.fd is None:
            return
        import fcntl

        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd, self.token = None, None

    def close(self) -> None:
        self.release()

    def holder(self) -> str | None:
        """The token of whoever holds the lock now (None when nobody does)."""
        import fcntl

        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:  # held: the holder wrote its pid into the file
                pid = os.read(fd, 32).decode().strip()
                return f"flock:{pid}" if pid else None
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)


def lock_for(app: Sanhu) -> PgAdvisoryLock | FileLock:
    """The leader lock for ``app``'s database."""
    url = make_url(normalise_url(app.settings.database_url))
    if url.get_backend_name() == "postgresql":
        return PgAdvisoryLock(app.settings.database_url)
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return FileLock(Path(tempfile.gettempdir()) / "sanhu-scheduler.lock")
    return FileLock(Path(database).resolve().with_name(Path(database).name + ".scheduler.lock"))


def holder_token(app: Sanhu) -> str | None:
    """The token of the leader holding the lock on ``app``'s database now, if any."""
    if app.settings.is_sqlite:
        lock = lock_for(app)
        return lock.holder() if isinstance(lock, FileLock) else None
    with app.engine.connect() as conn:
        pid = conn.execute(_HOLDER_SQL, {"hi": ADVISORY_KEY >> 32,
                                         "lo": ADVISORY_KEY & 0xFFFFFFFF}).scalar()
    return f"pg:{pid}" if pid is not None else None
