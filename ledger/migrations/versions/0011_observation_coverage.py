"""Observation coverage: reminders about unfinished observations name the observation.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

FK = "fk_notifications_observation_id_observations"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot ALTER a constraint in, but a new column may carry one
        op.execute("ALTER TABLE notifications ADD COLUMN observation_id INTEGER "
                   f"CONSTRAINT {FK} REFERENCES observations (id)")
    else:
        op.add_column("notifications", sa.Column("observation_id", sa.Integer(), nullable=True))
        op.create_foreign_key(FK, "notifications", "observations", ["observation_id"], ["id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("notifications", schema=None) as batch_op:
            batch_op.drop_column("observation_id")
    else:
        op.drop_constraint(FK, "notifications", type_="foreignkey")
        op.drop_column("notifications", "observation_id")
