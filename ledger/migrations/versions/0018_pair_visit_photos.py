"""Photos of the pairs' exchange visits (互帮).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pair_visit_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("mime", sa.String(length=128), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"],
                                name=op.f("fk_pair_visit_photos_uploaded_by_id_users")),
        sa.ForeignKeyConstraint(["visit_id"], ["pair_visits.id"],
                                name=op.f("fk_pair_visit_photos_visit_id_pair_visits")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pair_visit_photos")),
    )
    op.create_index(op.f("ix_pair_visit_photos_visit_id"), "pair_visit_photos", ["visit_id"])
    op.create_index(op.f("ix_pair_visit_photos_sha256"), "pair_visit_photos", ["sha256"])


def downgrade() -> None:
    op.drop_index(op.f("ix_pair_visit_photos_sha256"), table_name="pair_visit_photos")
    op.drop_index(op.f("ix_pair_visit_photos_visit_id"), table_name="pair_visit_photos")
    op.drop_table("pair_visit_photos")
