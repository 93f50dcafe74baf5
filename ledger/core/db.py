"""Engines and session factories, built on demand (never at import time).

SQLite runs in WAL mode with foreign keys on and ``synchronous=NORMAL``
(durable across application crashes; a power cut may lose the last commits,
which is the usual trade for an embedded install).  PostgreSQL is reached
through psycopg 3.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import sessionmaker

from ledger.core.settings import Settings


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def sqlite_pragmas(busy_timeout_ms: int = 10_000):
    """Set on every new connection.  The busy timeout is how long a writer waits for
    the one write lock; long maintenance writes commit in short batches to stay
    well under it (``ledger.items.services.settle_deadlines``)."""
    def on_connect(dbapi_conn, _record) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.close()
    return on_connect


#: with the default busy timeout (migrations)
_sqlite_pragmas = sqlite_pragmas()


def make_engine(settings: Settings) -> Engine:
    """Build the engine for ``settings.database_url``."""
    url = normalise_url(settings.database_url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:" and not path.startswith("file:"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=settings.echo_sql)
        event.listen(engine, "connect", sqlite_pragmas(settings.sqlite_busy_timeout_ms))
        return engine
    return create_engine(url, echo=settings.echo_sql, pool_pre_ping=True)


def make_session_factory(engine: Engine) -> sessionmaker:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def dialect_insert(session_or_conn, table):
    """``INSERT`` with ``on_conflict_do_nothing``/``do_update`` for the bound dialect."""
    name = session_or_conn.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"unsupported database {name}")
    return insert(table)
