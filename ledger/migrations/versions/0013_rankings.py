"""Rankings (结果运用): a ranking per cycle and observing unit with its rows and
append-only history, its 公示 objections; each unit's class per cycle; pairs (互帮)
and their exchange visits; 软弱涣散 determinations and their plans' items.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from ledger.migrations import append_only

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rankings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("observing_unit_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("computed_by_id", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("token", sa.String(length=64), nullable=True),
        sa.Column("publication_ends_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["users.id"], name=op.f("fk_rankings_approved_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["computed_by_id"], ["users.id"], name=op.f("fk_rankings_computed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycles.id"], name=op.f("fk_rankings_cycle_id_cycles")
        ),
        sa.ForeignKeyConstraint(
            ["observing_unit_id"], ["units.id"], name=op.f("fk_rankings_observing_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rankings")),
        sa.UniqueConstraint(
            "cycle_id", "observing_unit_id", "number", name=op.f("uq_rankings_cycle_id")
        ),
        sa.UniqueConstraint("token", name=op.f("uq_rankings_token")),
    )
    op.create_table(
        "ranking_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ranking_id", sa.Integer(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("actor_role", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_ranking_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ranking_id"], ["rankings.id"], name=op.f("fk_ranking_events_ranking_id_rankings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ranking_events")),
        sa.UniqueConstraint("ranking_id", "seq", name=op.f("uq_ranking_events_ranking_id")),
    )
    op.create_table(
        "unit_classes",
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("klass", sa.String(length=16), nullable=False),
        sa.Column("ranking_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycles.id"], name=op.f("fk_unit_classes_cycle_id_cycles")
        ),
        sa.ForeignKeyConstraint(
            ["ranking_id"], ["rankings.id"], name=op.f("fk_unit_classes_ranking_id_rankings")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_unit_classes_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("cycle_id", "unit_id", name=op.f("pk_unit_classes")),
    )
    with op.batch_alter_table("unit_classes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_classes_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "ranking_rows",
        sa.Column("ranking_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("observation_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("checklist", sa.Float(), nullable=True),
        sa.Column("failed_basic", sa.Integer(), nullable=True),
        sa.Column("klass", sa.String(length=16), nullable=True),
        sa.Column("rule_klass", sa.String(length=16), nullable=True),
        sa.Column("klass_reason", sa.Text(), nullable=True),
        sa.Column("excused", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["observation_id"],
            ["observations.id"],
            name=op.f("fk_ranking_rows_observation_id_observations"),
        ),
        sa.ForeignKeyConstraint(
            ["ranking_id"], ["rankings.id"], name=op.f("fk_ranking_rows_ranking_id_rankings")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_ranking_rows_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("ranking_id", "unit_id", name=op.f("pk_ranking_rows")),
    )
    op.create_table(
        "objections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ranking_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("contact", sa.String(length=100), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["answered_by_id"], ["users.id"], name=op.f("fk_objections_answered_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ranking_id"], ["rankings.id"], name=op.f("fk_objections_ranking_id_rankings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objections")),
    )
    op.create_index(op.f("ix_objections_ranking_id"), "objections", ["ranking_id"])
    op.create_table(
        "pairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("lagging_unit_id", sa.Integer(), nullable=False),
        sa.Column("partner_unit_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_pairs_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycles.id"], name=op.f("fk_pairs_cycle_id_cycles")),
        sa.ForeignKeyConstraint(
            ["lagging_unit_id"], ["units.id"], name=op.f("fk_pairs_lagging_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["partner_unit_id"], ["units.id"], name=op.f("fk_pairs_partner_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pairs")),
        sa.UniqueConstraint("cycle_id", "lagging_unit_id", name=op.f("uq_pairs_cycle_id")),
    )
    op.create_index(op.f("ix_pairs_partner_unit_id"), "pairs", ["partner_unit_id"])
    op.create_table(
        "pair_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("who", sa.String(length=200), nullable=False),
        sa.Column("learned", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_pair_visits_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["pairs.id"], name=op.f("fk_pair_visits_pair_id_pairs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pair_visits")),
    )
    op.create_index(op.f("ix_pair_visits_pair_id"), "pair_visits", ["pair_id"])
    op.create_table(
        "weak_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("plan", sa.Text(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycles.id"], name=op.f("fk_weak_reviews_cycle_id_cycles")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_weak_reviews_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_weak_reviews_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weak_reviews")),
        sa.UniqueConstraint("unit_id", "cycle_id", name=op.f("uq_weak_reviews_unit_id")),
    )
    op.create_index(op.f("ix_weak_reviews_unit_id"), "weak_reviews", ["unit_id"])
    op.create_table(
        "weak_review_items",
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_weak_review_items_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["weak_reviews.id"],
            name=op.f("fk_weak_review_items_review_id_weak_reviews"),
        ),
        sa.PrimaryKeyConstraint("review_id", "item_id", name=op.f("pk_weak_review_items")),
    )
    op.create_index(op.f("ix_weak_review_items_item_id"), "weak_review_items", ["item_id"])
    append_only.create("ranking_events")


def downgrade() -> None:
    op.drop_table("weak_review_items")
    op.drop_table("weak_reviews")
    op.drop_table("pair_visits")
    op.drop_table("pairs")
    op.drop_table("objections")
    append_only.drop("ranking_events")
    op.drop_table("ranking_rows")
    with op.batch_alter_table("unit_classes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_classes_unit_id"))

    op.drop_table("unit_classes")
    op.drop_table("ranking_events")
    op.drop_table("rankings")
