"""The standards' category of a 亮点 or 经验总结, to browse highlights by.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("observation_sections", sa.Column("category", sa.String(length=24),
                                                    nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("observation_sections") as batch_op:
        batch_op.drop_column("category")
