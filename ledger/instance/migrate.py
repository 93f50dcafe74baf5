"""Apply Alembic migrations and the seed data every install needs.

``upgrade(settings)`` brings the schema to head, then loads the standards
catalog and the working-day calendar if they are missing.  It is what
``sanhu db upgrade`` runs, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config

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


def upgrade(sanhu: Sanhu, revision: str = "head") -> None:
    """Migrate the schema to ``revision`` and seed the catalog and calendar."""
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


def current_revision(settings: Settings) -> str | None:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(normalise_url(settings.database_url))
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
