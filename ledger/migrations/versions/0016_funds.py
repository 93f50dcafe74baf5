"""以奖代补: a funds plan per cycle and observing unit (its rule, the ranking it was
computed from, its approval), the funds table's rows and append-only funds_events.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from ledger.migrations import append_only

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "funds_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("ranking_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("saved_by_id", sa.Integer(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["users.id"], name=op.f("fk_funds_plans_approved_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_funds_plans_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycles.id"], name=op.f("fk_funds_plans_cycle_id_cycles")
        ),
        sa.ForeignKeyConstraint(
            ["ranking_id"], ["rankings.id"], name=op.f("fk_funds_plans_ranking_id_rankings")
        ),
        sa.ForeignKeyConstraint(
            ["saved_by_id"], ["users.id"], name=op.f("fk_funds_plans_saved_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_funds_plans_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funds_plans")),
        sa.UniqueConstraint("cycle_id", "unit_id", name=op.f("uq_funds_plans_cycle_id")),
    )
    op.create_index(op.f("ix_funds_plans_unit_id"), "funds_plans", ["unit_id"])
    op.create_table(
        "funds_rows",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("klass", sa.String(length=16), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["funds_plans.id"], name=op.f("fk_funds_rows_plan_id_funds_plans")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_funds_rows_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("plan_id", "unit_id", name=op.f("pk_funds_rows")),
    )
    op.create_table(
        "funds_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("actor_role", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_funds_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["funds_plans.id"], name=op.f("fk_funds_events_plan_id_funds_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funds_events")),
        sa.UniqueConstraint("plan_id", "seq", name=op.f("uq_funds_events_plan_id")),
    )
    append_only.create("funds_events")


def downgrade() -> None:
    append_only.drop("funds_events")
    op.drop_table("funds_events")
    op.drop_table("funds_rows")
    op.drop_index(op.f("ix_funds_plans_unit_id"), table_name="funds_plans")
    op.drop_table("funds_plans")
