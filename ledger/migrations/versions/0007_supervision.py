"""Supervision: records of 催办/约谈/函询/挂牌督办, notices (通报), repeat-finding index.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "supervision_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"],
                                name=op.f("fk_supervision_records_unit_id_units")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_supervision_records_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_records")),
    )
    op.create_index("ix_supervision_records_kind_status", "supervision_records",
                    ["kind", "status"])

    op.create_table(
        "supervision_record_items",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["supervision_records.id"],
            name=op.f("fk_supervision_record_items_record_id_supervision_records")),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"],
                                name=op.f("fk_supervision_record_items_item_id_items")),
        sa.PrimaryKeyConstraint("record_id", "item_id",
                                name=op.f("pk_supervision_record_items")),
    )
    op.create_index("ix_supervision_record_items_item", "supervision_record_items",
                    ["item_id", "record_id"])

    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.Integer(), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_notices_unit_id_units")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_notices_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("year", "quarter", "serial", name=op.f("uq_notices_year")),
    )
    op.create_index("ix_notices_created_at", "notices", ["created_at"])

    op.create_table(
        "notice_items",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("days_overdue", sa.Integer(), nullable=True),
        sa.Column("workdays_overdue", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"],
                                name=op.f("fk_notice_items_notice_id_notices")),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"],
                                name=op.f("fk_notice_items_item_id_items")),
        sa.PrimaryKeyConstraint("notice_id", "item_id", name=op.f("pk_notice_items")),
    )
    op.create_index("ix_notice_items_item", "notice_items", ["item_id", "notice_id"])

    op.create_index("ix_items_unit_standard", "items", ["unit_id", "standard_id", "cycle_id"])


def downgrade() -> None:
    op.drop_index("ix_items_unit_standard", table_name="items")
    op.drop_index("ix_notice_items_item", table_name="notice_items")
    op.drop_table("notice_items")
    op.drop_index("ix_notices_created_at", table_name="notices")
    op.drop_table("notices")
    op.drop_index("ix_supervision_record_items_item", table_name="supervision_record_items")
    op.drop_table("supervision_record_items")
    op.drop_index("ix_supervision_records_kind_status", table_name="supervision_records")
    op.drop_table("supervision_records")
