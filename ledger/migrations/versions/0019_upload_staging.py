"""An index on observation_files.sha256, so the daily evidence_gc job can ask which
blobs an observation photo or plan attachment still references (evidence.sha256
has one since 0001).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_observation_files_sha256", "observation_files", ["sha256"])


def downgrade() -> None:
    op.drop_index("ix_observation_files_sha256", table_name="observation_files")
