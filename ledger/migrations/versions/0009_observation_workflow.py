"""Observation workflow: version, timestamps and the target's ancestors on observations;
append-only observation_events.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ANCESTORS = ("city_id", "county_id", "township_id", "village_id")
MESSAGE = "observation_events is append-only"


def upgrade() -> None:
    # plain ADD COLUMNs (no table rebuild on SQLite: items reference observations)
    for column in ANCESTORS:
        op.add_column("observations", sa.Column(column, sa.Integer(), nullable=True))
    op.add_column("observations", sa.Column("version", sa.Integer(),
                                            server_default=sa.text("1"), nullable=False))
    for column in ("started_at", "submitted_at", "confirmed_at"):
        op.add_column("observations",
                      sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    # the target unit's ancestors, as opening a cycle now writes them
    sets = ", ".join(f"{c} = (SELECT units.{c} FROM units WHERE units.id = observations.unit_id)"
                     for c in ANCESTORS)
    op.execute(f"UPDATE observations SET {sets}")
    op.create_index("ix_observations_cycle_county", "observations", ["cycle_id", "county_id"])
    op.create_index("ix_observations_cycle_township", "observations",
                    ["cycle_id", "township_id"])

    op.create_table(
        "observation_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("observation_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("actor_role", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["observation_id"], ["observations.id"],
                                name=op.f("fk_observation_events_observation_id_observations")),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"],
                                name=op.f("fk_observation_events_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observation_events")),
        sa.UniqueConstraint("observation_id", "seq",
                            name=op.f("uq_observation_events_observation_id")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION observation_events_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}';
            END;
            $$ LANGUAGE plpgsql""")
        op.execute("""
            CREATE TRIGGER observation_events_append_only
            BEFORE UPDATE OR DELETE ON observation_events
            FOR EACH ROW EXECUTE FUNCTION observation_events_append_only()""")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER observation_events_no_{action.lower()}
                BEFORE {action} ON observation_events
                BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS observation_events_append_only ON observation_events")
        op.execute("DROP FUNCTION IF EXISTS observation_events_append_only()")
    op.drop_table("observation_events")
    op.drop_index("ix_observations_cycle_township", table_name="observations")
    op.drop_index("ix_observations_cycle_county", table_name="observations")
    with op.batch_alter_table("observations") as batch:
        for column in ("confirmed_at", "submitted_at", "started_at", "version", *ANCESTORS):
            batch.drop_column(column)
