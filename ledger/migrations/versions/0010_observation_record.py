"""Observation record: plans, groups, batches, liaisons, checklist lines, sections,
participants and files; scoring and finding settings on cycles; one ledger item per
(observation, standard).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "liaisons",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("township_id", sa.Integer(), nullable=False),
        sa.Column("assigned_by_id", sa.Integer(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_by_id"], ["users.id"], name=op.f("fk_liaisons_assigned_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["township_id"], ["units.id"], name=op.f("fk_liaisons_township_id_units")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_liaisons_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", "township_id", name=op.f("pk_liaisons")),
    )
    with op.batch_alter_table("liaisons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_liaisons_township_id"), ["township_id"], unique=False)

    op.create_table(
        "observation_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("observing_unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycles.id"], name=op.f("fk_observation_batches_cycle_id_cycles")
        ),
        sa.ForeignKeyConstraint(
            ["observing_unit_id"],
            ["units.id"],
            name=op.f("fk_observation_batches_observing_unit_id_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observation_batches")),
        sa.UniqueConstraint(
            "cycle_id", "observing_unit_id", "name", name=op.f("uq_observation_batches_cycle_id")
        ),
    )
    op.create_table(
        "observation_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("observing_unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("outside", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycles.id"], name=op.f("fk_observation_groups_cycle_id_cycles")
        ),
        sa.ForeignKeyConstraint(
            ["observing_unit_id"],
            ["units.id"],
            name=op.f("fk_observation_groups_observing_unit_id_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observation_groups")),
        sa.UniqueConstraint(
            "cycle_id", "observing_unit_id", "name", name=op.f("uq_observation_groups_cycle_id")
        ),
    )
    op.create_table(
        "observation_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("observing_unit_id", sa.Integer(), nullable=False),
        sa.Column("goals", sa.Text(), nullable=True),
        sa.Column("methods", sa.Text(), nullable=True),
        sa.Column("steps", sa.Text(), nullable=True),
        sa.Column("rectification", sa.Text(), nullable=True),
        sa.Column("guidance", sa.Text(), nullable=True),
        sa.Column("use_of_results", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycles.id"], name=op.f("fk_observation_plans_cycle_id_cycles")
        ),
        sa.ForeignKeyConstraint(
            ["observing_unit_id"],
            ["units.id"],
            name=op.f("fk_observation_plans_observing_unit_id_units"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_observation_plans_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observation_plans")),
        sa.UniqueConstraint(
            "cycle_id", "observing_unit_id", name=op.f("uq_observation_plans_cycle_id")
        ),
    )
    op.create_table(
        "observation_group_members",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["observation_groups.id"],
            name=op.f("fk_observation_group_members_group_id_observation_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_observation_group_members_user_id_users")
        ),
        sa.PrimaryKeyConstraint("group_id", "user_id", name=op.f("pk_observation_group_members")),
    )
    op.create_table(
        "observation_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("observation_id", sa.Integer(), nullable=True),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("section", sa.String(length=16), nullable=True),
        sa.Column("standard_id", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("mime", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["observation_id"],
            ["observations.id"],
            name=op.f("fk_observation_files_observation_id_observations"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["observation_plans.id"],
            name=op.f("fk_observation_files_plan_id_observation_plans"),
        ),
        sa.ForeignKeyConstraint(
            ["standard_id"],
            ["standards.id"],
            name=op.f("fk_observation_files_standard_id_standards"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_observation_files_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observation_files")),
    )
    with op.batch_alter_table("observation_files", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_observation_files_observation_id"), ["observation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_observation_files_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "observation_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("observation_id", sa.Integer(), nullable=False),
        sa.Column("standard_id", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("deduction", sa.Float(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["observation_id"],
            ["observations.id"],
            name=op.f("fk_observation_lines_observation_id_observations"),
        ),
        sa.ForeignKeyConstraint(
            ["standard_id"],
            ["standards.id"],
            name=op.f("fk_observation_lines_standard_id_standards"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_observation_lines_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observation_lines")),
        sa.UniqueConstraint(
            "observation_id", "standard_id", name=op.f("uq_observation_lines_observation_id")
        ),
    )
    op.create_table(
        "observation_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("observation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("affiliation", sa.String(length=100), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["observation_id"],
            ["observations.id"],
            name=op.f("fk_observation_participants_observation_id_observations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_observation_participants_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observation_participants")),
    )
    with op.batch_alter_table("observation_participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_observation_participants_observation_id"),
            ["observation_id"],
            unique=False,
        )

    op.create_table(
        "observation_sections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("observation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["observation_id"],
            ["observations.id"],
            name=op.f("fk_observation_sections_observation_id_observations"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_observation_sections_updated_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observation_sections")),
        sa.UniqueConstraint(
            "observation_id", "name", name=op.f("uq_observation_sections_observation_id")
        ),
    )
    # plain ADD COLUMNs (no table rebuild on SQLite: items reference both tables)
    op.add_column(
        "cycles",
        sa.Column("checklist_weight", sa.Integer(), server_default=sa.text("70"), nullable=False),
    )
    op.add_column(
        "cycles",
        sa.Column(
            "findings_include_partial",
            sa.Boolean(),
            server_default=sa.text("false"),
            nullable=False,
        ),
    )
    op.add_column("cycles", sa.Column("finding_deadline_workdays", sa.Integer(), nullable=True))

    op.add_column(
        "observations",
        sa.Column(
            "mode", sa.String(length=16), server_default=sa.text("'focused'"), nullable=False
        ),
    )
    op.add_column("observations", sa.Column("categories", sa.JSON(), nullable=True))
    op.add_column(
        "observations",
        sa.Column("demonstration", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column("observations", sa.Column("theme", sa.String(length=200), nullable=True))
    for column, table in (("group_id", "observation_groups"),
                          ("batch_id", "observation_batches")):
        name = f"fk_observations_{column}_{table}"
        if op.get_bind().dialect.name == "sqlite":
            # SQLite cannot ALTER a constraint in, but a new column may carry one
            op.execute(f"ALTER TABLE observations ADD COLUMN {column} INTEGER "
                       f"CONSTRAINT {name} REFERENCES {table} (id)")
        else:
            op.add_column("observations", sa.Column(column, sa.Integer(), nullable=True))
            op.create_foreign_key(name, "observations", table, [column], ["id"])
    op.add_column("observations", sa.Column("score", sa.Float(), nullable=True))
    op.add_column("observations", sa.Column("score_breakdown", sa.JSON(), nullable=True))
    op.add_column("observations", sa.Column("late_at", sa.DateTime(timezone=True), nullable=True))

    # one item per (observation, standard): an older database may hold hand-typed
    # duplicates; the earliest keeps the link, later ones keep their cycle only
    op.execute("""
        UPDATE items SET observation_id = NULL
        WHERE observation_id IS NOT NULL AND standard_id IS NOT NULL
          AND id > (SELECT MIN(i2.id) FROM items i2
                    WHERE i2.observation_id = items.observation_id
                      AND i2.standard_id = items.standard_id)""")
    op.create_index(
        "uq_items_observation_standard",
        "items",
        ["observation_id", "standard_id"],
        unique=True,
        sqlite_where=sa.text("observation_id IS NOT NULL AND standard_id IS NOT NULL"),
        postgresql_where=sa.text("observation_id IS NOT NULL AND standard_id IS NOT NULL"),
    )


def downgrade() -> None:
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_column("late_at")
        batch_op.drop_column("score_breakdown")
        batch_op.drop_column("score")
        batch_op.drop_column("batch_id")
        batch_op.drop_column("group_id")
        batch_op.drop_column("theme")
        batch_op.drop_column("demonstration")
        batch_op.drop_column("categories")
        batch_op.drop_column("mode")

    op.drop_index("uq_items_observation_standard", table_name="items")

    with op.batch_alter_table("cycles", schema=None) as batch_op:
        batch_op.drop_column("finding_deadline_workdays")
        batch_op.drop_column("findings_include_partial")
        batch_op.drop_column("checklist_weight")

    op.drop_table("observation_sections")
    with op.batch_alter_table("observation_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_observation_participants_observation_id"))

    op.drop_table("observation_participants")
    op.drop_table("observation_lines")
    with op.batch_alter_table("observation_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_observation_files_plan_id"))
        batch_op.drop_index(batch_op.f("ix_observation_files_observation_id"))

    op.drop_table("observation_files")
    op.drop_table("observation_group_members")
    op.drop_table("observation_plans")
    op.drop_table("observation_groups")
    op.drop_table("observation_batches")
    with op.batch_alter_table("liaisons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_liaisons_township_id"))

    op.drop_table("liaisons")
