"""Upward reports (报送): reports with their locked snapshot and append-only
report_events; notifications name what else they are about (``subject``).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from ledger.migrations import append_only

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("to_unit_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cover_note", sa.Text(), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=True),
        sa.Column("submissions", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_by_id", sa.Integer(), nullable=True),
        sa.Column("return_note", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_reports_created_by_id_users")),
        sa.ForeignKeyConstraint(["received_by_id"], ["users.id"],
                                name=op.f("fk_reports_received_by_id_users")),
        sa.ForeignKeyConstraint(["submitted_by_id"], ["users.id"],
                                name=op.f("fk_reports_submitted_by_id_users")),
        sa.ForeignKeyConstraint(["to_unit_id"], ["units.id"],
                                name=op.f("fk_reports_to_unit_id_units")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_reports_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("unit_id", "period", name=op.f("uq_reports_unit_id")),
    )
    op.create_index("ix_reports_to_unit_period", "reports", ["to_unit_id", "period"])
    op.create_table(
        "report_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("actor_role", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"],
                                name=op.f("fk_report_events_actor_id_users")),
        sa.ForeignKeyConstraint(["report_id"], ["reports.id"],
                                name=op.f("fk_report_events_report_id_reports")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_events")),
        sa.UniqueConstraint("report_id", "seq", name=op.f("uq_report_events_report_id")),
    )
    append_only.create("report_events")
    op.add_column("notifications", sa.Column("subject", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.drop_column("subject")
    append_only.drop("report_events")
    op.drop_table("report_events")
    op.drop_index("ix_reports_to_unit_period", table_name="reports")
    op.drop_table("reports")
