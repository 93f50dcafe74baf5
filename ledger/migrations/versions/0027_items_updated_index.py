"""An index for pulling the items changed since a time (the API's ``updated_since``).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-01
"""

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_items_updated_id", "items", ["updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_items_updated_id", table_name="items")
