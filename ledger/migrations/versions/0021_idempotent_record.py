"""One-time tokens of the 登记 form: record_tokens (user, token) → the item recorded.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_tokens",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"],
                                name=op.f("fk_record_tokens_item_id_items")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_record_tokens_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", "token", name=op.f("pk_record_tokens")),
    )


def downgrade() -> None:
    op.drop_table("record_tokens")
