"""Apply Alembic migrations and the seed data every install needs.

``upgrade(settings)`` brings the schema to head, then loads the standards
catalog and the working-day calendar if they are missing.  It is what
``sanhu db upgrade`` runs, on SQLite and PostgreSQL alike.

Several upgrades may start at once (two machines deploying, a unit restarting
while an operator migrates by hand): each holds a lock around the migration
and the seeding, a PostgreSQL advisory lock or, on SQLite, an exclusive lock
on a file beside the database, so the second waits and then finds the schema
at head.  ``schema_state`` is what the readiness check compares.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from functools import cache
from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from ledger.calendar.workdays import ensure_calendar
from ledger.catalog.standards import ensure_catalog
from ledger.core.db import normalise_url
from ledger.core.settings import Settings
from ledger.instance.bootstrap import Sanhu

#: schema objects the models do not declare, which autogenerate must leave alone:
#: APScheduler's job store, and the search index (FTS5 table and its shadow tables on
#: SQLite, a stored tsvector column and its GIN index on PostgreSQL; see migration 0008)
NOT_IN_MODELS = {
    "column": {"search_vector"},
    "table": {"apscheduler_jobs", "items_fts", "items_fts_data", "items_fts_idx",
              "items_fts_docsize", "items_fts_config"},
    "index": {"ix_items_search"},
}


def include_name(name, type_, parent_names) -> bool:
    """Alembic's ``include_name`` hook: compare everything but ``NOT_IN_MODELS``."""
    return name not in NOT_IN_MODELS.get(type_, ())


def alembic_config(settings: Settings) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(files("ledger") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", normalise_url(settings.database_url))
    return cfg


#: the PostgreSQL advisory lock key held while migrating ("sanhu" in ASCII)
MIGRATION_LOCK_KEY = 0x73616E6875


@contextlib.contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Hold the instance's migration lock: one migrating process at a time, others wait.

    PostgreSQL: a session-level advisory lock on a connection of its own (the server
    releases it should the process die).  SQLite: ``flock`` on ``<database>.migrate.lock``
    (an in-memory database needs none).
    """
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"),
                             {"key": MIGRATION_LOCK_KEY})
                conn.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    with open(Path(database).with_name(Path(database).name + ".migrate.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def upgrade(sanhu: Sanhu, revision: str = "head") -> None:
    """Migrate the schema to ``revision`` and seed the catalog and calendar (under the lock)."""
    with migration_lock(sanhu.engine):
        command.upgrade(alembic_config(sanhu.settings), revision)
        with sanhu.uow() as uow:
            ensure_catalog(uow.session)
            ensure_calendar(uow.session, uow.today())
            uow.commit()
    analyze(sanhu)


def analyze(sanhu: Sanhu) -> None:
    """Refresh the planner's statistics (SQLite never gathers them by itself).

    On PostgreSQL also VACUUM: a migration that rewrote a table (0008 does) leaves
    its visibility map empty, and index-only scans of the overdue board would read
    the heap until autovacuum comes by.  On a vacuumed table this is quick.
    """
    if sanhu.engine.dialect.name == "postgresql":
        with sanhu.engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        return
    with sanhu.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


@cache
def head_revisions() -> tuple[str, ...]:
    """The newest revision(s) of the migrations this code carries (read once per process)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(files("ledger") / "migrations"))
    return tuple(sorted(ScriptDirectory.from_config(cfg).get_heads()))


def schema_state(engine: Engine) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the database's current revisions, the code's heads); equal when migrations are current.

    Raises SQLAlchemy's errors when the database cannot be reached.
    """
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    return tuple(sorted(current)), head_revisions()


def current_revision(settings: Settings) -> str | None:
    from sqlalchemy import create_engine

    engine = create_engine(normalise_url(settings.database_url))
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
