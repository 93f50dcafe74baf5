"""Ranking notices (通报排名): notices.ranking_id, the frozen rows in notice_rankings,
and notifications.notice_id for the inbox link.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

#: (table, column, referred table, constraint name)
COLUMNS = (
    ("notices", "ranking_id", "rankings", "fk_notices_ranking_id_rankings"),
    ("notifications", "notice_id", "notices", "fk_notifications_notice_id_notices"),
)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column, referred, fk in COLUMNS:
        if sqlite:
            # SQLite cannot ALTER a constraint in, but a new column may carry one
            op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER "
                       f"CONSTRAINT {fk} REFERENCES {referred} (id)")
        else:
            op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
            op.create_foreign_key(fk, table, referred, [column], ["id"])
    op.create_index("uq_notices_ranking", "notices", ["ranking_id"], unique=True)
    op.create_table(
        "notice_rankings",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("unit_name", sa.String(length=100), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("klass", sa.String(length=16), nullable=True),
        sa.Column("found", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("overdue", sa.Integer(), nullable=False),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"],
                                name=op.f("fk_notice_rankings_notice_id_notices")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"],
                                name=op.f("fk_notice_rankings_unit_id_units")),
        sa.PrimaryKeyConstraint("notice_id", "unit_id", name=op.f("pk_notice_rankings")),
    )
    op.create_index("ix_notice_rankings_unit", "notice_rankings", ["unit_id", "notice_id"])


def downgrade() -> None:
    op.drop_index("ix_notice_rankings_unit", table_name="notice_rankings")
    op.drop_table("notice_rankings")
    op.drop_index("uq_notices_ranking", table_name="notices")
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column, _referred, fk in reversed(COLUMNS):
        if sqlite:
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.drop_column(column)
        else:
            op.drop_constraint(fk, table, type_="foreignkey")
            op.drop_column(table, column)
