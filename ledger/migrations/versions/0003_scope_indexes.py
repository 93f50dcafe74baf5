"""Indexes for city-wide pages: open items by city, deadline order, status per scope.

Measured at province scale by bench/benchmark.py (see bench/README.md).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OPEN_PG = "state IN ('assigned', 'rectifying') AND submitted = false"
OPEN_SQLITE = "state IN ('assigned', 'rectifying') AND submitted = 0"
LEVELS = ("city", "county", "township", "village")


def upgrade() -> None:
    for lvl in ("county", "township", "village"):
        op.drop_index(f"ix_items_{lvl}_state", table_name="items")
    for lvl in LEVELS:
        op.create_index(f"ix_items_{lvl}_status", "items", [f"{lvl}_id", "state", "submitted"])
    op.create_index("ix_items_open_city_deadline", "items", ["city_id", "deadline", "id"],
                    sqlite_where=sa.text(OPEN_SQLITE), postgresql_where=sa.text(OPEN_PG))
    op.create_index("ix_items_deadline_id", "items", ["deadline", "id"])


def downgrade() -> None:
    op.drop_index("ix_items_deadline_id", table_name="items")
    op.drop_index("ix_items_open_city_deadline", table_name="items")
    for lvl in LEVELS:
        op.drop_index(f"ix_items_{lvl}_status", table_name="items")
    for lvl in ("county", "township", "village"):
        op.create_index(f"ix_items_{lvl}_state", "items", [f"{lvl}_id", "state"])
