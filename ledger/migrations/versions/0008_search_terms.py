"""Free-text search: items.search_terms, indexed by FTS5 (SQLite) or GIN (PostgreSQL).

On PostgreSQL a stored generated column ``search_vector`` holds the tsvector of
``search_terms``; the GIN index is on it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27

The FTS5 table is external-content (it stores only the index) and is kept by
triggers that fire only when ``search_terms`` is written, so transitions that
leave it alone cost nothing extra.  Existing items get their terms here.
"""
import sqlalchemy as sa
from alembic import op

from ledger.items.search import PG_STATISTICS, terms

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BATCH = 5000

SQLITE_DDL = (
    "CREATE VIRTUAL TABLE items_fts USING fts5(search_terms, content='items', "
    "content_rowid='id', tokenize='unicode61')",
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
#: PostgreSQL keeps the tsvector itself (a stored generated column, not in the models):
#: filters and rechecks read it instead of running to_tsvector on every row
PG_DDL = (
    "ALTER TABLE items ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('simple'::regconfig, coalesce(search_terms, ''))) STORED",
    "CREATE INDEX ix_items_search ON items USING gin (search_vector)",
)


def _backfill(conn) -> None:
    last = 0
    while True:
        rows = conn.execute(sa.text(
            "SELECT id, number, description, measures, responsible_person FROM items "
            "WHERE id > :last ORDER BY id LIMIT :n"), {"last": last, "n": BATCH}).all()
        if not rows:
            return
        conn.execute(sa.text("UPDATE items SET search_terms = :t WHERE id = :id"),
                     [{"id": r.id, "t": terms(r.number, r.description, r.measures,
                                              r.responsible_person)} for r in rows])
        last = rows[-1].id


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("search_terms", sa.Text(), nullable=True))
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        for statement in SQLITE_DDL:
            op.execute(statement)
        _backfill(conn)  # the update trigger fills the index
    else:
        _backfill(conn)
        for statement in (*PG_DDL, PG_STATISTICS):
            op.execute(statement)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        for name in ("items_fts_insert", "items_fts_update", "items_fts_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS items_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_items_search")
        op.execute("ALTER TABLE items DROP COLUMN IF EXISTS search_vector")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("search_terms")
