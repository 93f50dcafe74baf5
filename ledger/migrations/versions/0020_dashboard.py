"""The dashboards' summary tables (dash_units, dash_months, dash_standards), rebuilt by
the ``dashboard_refresh`` job.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

COUNTS = ("found", "assigned", "rectifying", "submitted", "verified", "closed", "valid",
          "rectified", "on_time", "overdue", "overdue_days", "overdue_max")


def upgrade() -> None:
    op.create_table(
        "dash_units",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.Column("close_days", sa.JSON(), nullable=False),
        sa.Column("observed", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_dash_units_unit_id_units")),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_dash_units")),
    )
    op.create_table(
        "dash_months",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False)
          for name in ("found", "closed", "on_time", "found_closed")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"],
                                name=op.f("fk_dash_months_unit_id_units")),
        sa.PrimaryKeyConstraint("unit_id", "month", name=op.f("pk_dash_months")),
    )
    op.create_table(
        "dash_standards",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("standard_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["standard_id"], ["standards.id"],
                                name=op.f("fk_dash_standards_standard_id_standards")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"],
                                name=op.f("fk_dash_standards_unit_id_units")),
        sa.PrimaryKeyConstraint("unit_id", "standard_id", name=op.f("pk_dash_standards")),
    )


def downgrade() -> None:
    op.drop_table("dash_standards")
    op.drop_table("dash_months")
    op.drop_table("dash_units")
