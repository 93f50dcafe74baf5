"""The SQLite search index keeps no token positions (FTS5 ``detail=none``).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01

Every search asks for whole tokens joined by AND (``search.fts5_match``) and
confirms longer needles with LIKE, so positions were never read; keeping them
made the index of the Chinese 2/3/4-grams large and its merges slow, so that
inserting grew faster than linearly with the table (30,000 imported rows: 30 s
of CPU in the insert trigger with positions, 6 s without).  The table is made
again and rebuilt from ``items.search_terms``.  PostgreSQL is unchanged.
"""

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

TRIGGERS = (
    "CREATE TRIGGER items_fts_insert AFTER INSERT ON items WHEN new.search_terms IS NOT NULL "
    "BEGIN INSERT INTO items_fts(rowid, search_terms) VALUES (new.id, new.search_terms); END",
    "CREATE TRIGGER items_fts_update AFTER UPDATE OF search_terms ON items BEGIN "
    "INSERT INTO items_fts(items_fts, rowid, search_terms) "
    "SELECT 'delete', old.id, old.search_terms WHERE old.search_terms IS NOT NULL; "
    "INSERT INTO items_fts(rowid, search_terms) "
    "SELECT new.id, new.search_terms WHERE new.search_terms IS NOT NULL; END",
    "CREATE TRIGGER items_fts_delete AFTER DELETE ON items WHEN old.search_terms IS NOT NULL "
    "BEGIN INSERT INTO items_fts(items_fts, rowid, search_terms) "
    "VALUES ('delete', old.id, old.search_terms); END",
)


def _remake(detail: str) -> None:
    for name in ("items_fts_insert", "items_fts_update", "items_fts_delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS items_fts")
    op.execute("CREATE VIRTUAL TABLE items_fts USING fts5(search_terms, content='items', "
               f"content_rowid='id', tokenize='unicode61'{detail})")
    for statement in TRIGGERS:
        op.execute(statement)
    op.execute("INSERT INTO items_fts(items_fts) VALUES ('rebuild')")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _remake(", detail=none")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _remake("")
