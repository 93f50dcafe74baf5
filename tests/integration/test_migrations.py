"""The Alembic migrations build exactly the schema the models declare, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ledger.core.models import Base
from ledger.dashboard import models as dashboard_models  # noqa: F401  (its tables join Base.metadata)
from ledger.instance.migrate import include_name
from ledger.survey import models as survey_models  # noqa: F401  (its tables join Base.metadata)


def test_migrations_and_models_agree(any_sanhu):
    with any_sanhu.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": include_name})
        assert compare_metadata(context, Base.metadata) == []


def test_the_schema_is_at_the_newest_revision(any_sanhu):
    from alembic.script import ScriptDirectory

    from ledger.instance.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config(any_sanhu.settings)).get_current_head()
    with any_sanhu.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head
