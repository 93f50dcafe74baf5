"""Alembic environment: the same migrations for SQLite and PostgreSQL.

The URL comes from the Alembic config (set by ``ledger.instance.migrate``) or from
``Settings.from_env()``.  SQLite uses batch mode so that ALTERs work there too.
"""

from alembic import context
from sqlalchemy import engine_from_config, pool

from ledger.core.db import _sqlite_pragmas, normalise_url
from ledger.core.models import Base
from ledger.core.settings import Settings
from ledger.dashboard import models as dashboard_models  # noqa: F401  (its tables join Base.metadata)
from ledger.instance.migrate import include_name
from ledger.survey import models as survey_models  # noqa: F401  (its tables join Base.metadata)

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return normalise_url(config.get_main_option("sqlalchemy.url")
                         or Settings.from_env().database_url)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True, include_name=include_name)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = engine_from_config({"sqlalchemy.url": _url()}, prefix="sqlalchemy.",
                                    poolclass=pool.NullPool)
        if engine.dialect.name == "sqlite":
            from sqlalchemy import event

            event.listen(engine, "connect", _sqlite_pragmas)
        with engine.connect() as connection:
            _run(connection)
    else:
        _run(connectable)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite",
                      include_name=include_name, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
