"""Fewer indexes keyed on state: every state change rewrites each of them.

``ix_items_state_id`` is covered by ``ix_items_city_status`` since 0003, and
``ix_items_responsible_user`` needs no state column.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_items_state_id", table_name="items")
    op.drop_index("ix_items_responsible_user", table_name="items")
    op.create_index("ix_items_responsible_user", "items", ["responsible_user_id"])


def downgrade() -> None:
    op.drop_index("ix_items_responsible_user", table_name="items")
    op.create_index("ix_items_responsible_user", "items", ["responsible_user_id", "state"])
    op.create_index("ix_items_state_id", "items", ["state", "id"])
