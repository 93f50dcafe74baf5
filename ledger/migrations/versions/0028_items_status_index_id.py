"""The status indexes end with ``id``: a status's items in id order.

The API's cursor pages ask for a county's items of one status by id.  Without
``id`` in the index PostgreSQL walked the primary key and dropped the other
statuses' rows (173 ms for a county's ``found`` items at 200,000 items).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-02
"""

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

LEVELS = ("city", "county", "township", "village")


def upgrade() -> None:
    for lvl in LEVELS:
        op.drop_index(f"ix_items_{lvl}_status", table_name="items")
        op.create_index(f"ix_items_{lvl}_status", "items",
                        [f"{lvl}_id", "state", "submitted", "id"])


def downgrade() -> None:
    for lvl in LEVELS:
        op.drop_index(f"ix_items_{lvl}_status", table_name="items")
        op.create_index(f"ix_items_{lvl}_status", "items", [f"{lvl}_id", "state", "submitted"])
