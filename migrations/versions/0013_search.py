"""Full-text search: FTS5 tables kept by triggers on SQLite; a stored tsvector, its GIN index and pg_trgm on PostgreSQL.

The DDL is written out here rather than imported from the models, so this
migration keeps building what it built when the models change later. On
PostgreSQL, creating pg_trgm needs a role allowed to create extensions (a
superuser, or the database owner on PostgreSQL 13+, where pg_trgm is trusted).
Building the indexes reads every message once: minutes at 10M messages, during
which writes to messages wait.

Revision ID: 0013
Revises: 0012
"""
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

SQLITE = [
    "CREATE VIRTUAL TABLE messages_search USING fts5(subject, text, content='messages', content_rowid='id')",
    """CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
         INSERT INTO messages_search (rowid, subject, text) VALUES (NEW.id, NEW.subject, NEW.text);
       END""",
    """CREATE TRIGGER messages_search_update AFTER UPDATE OF subject, text ON messages BEGIN
         INSERT INTO messages_search (messages_search, rowid, subject, text)
         VALUES ('delete', OLD.id, OLD.subject, OLD.text);
         INSERT INTO messages_search (rowid, subject, text) VALUES (NEW.id, NEW.subject, NEW.text);
       END""",
    """CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
         INSERT INTO messages_search (messages_search, rowid, subject, text)
         VALUES ('delete', OLD.id, OLD.subject, OLD.text);
       END""",
    "CREATE VIRTUAL TABLE authors_search USING fts5(handle, name, content='authors', content_rowid='id')",
    """CREATE TRIGGER authors_search_insert AFTER INSERT ON authors BEGIN
         INSERT INTO authors_search (rowid, handle, name) VALUES (NEW.id, NEW.handle, NEW.name);
       END""",
    """CREATE TRIGGER authors_search_update AFTER UPDATE OF handle, name ON authors
       WHEN OLD.handle IS NOT NEW.handle OR OLD.name IS NOT NEW.name BEGIN
         INSERT INTO authors_search (authors_search, rowid, handle, name)
         VALUES ('delete', OLD.id, OLD.handle, OLD.name);
         INSERT INTO authors_search (rowid, handle, name) VALUES (NEW.id, NEW.handle, NEW.name);
       END""",
    """CREATE TRIGGER authors_search_delete AFTER DELETE ON authors BEGIN
         INSERT INTO authors_search (authors_search, rowid, handle, name)
         VALUES ('delete', OLD.id, OLD.handle, OLD.name);
       END""",
    "CREATE INDEX ix_authors_handle_nocase ON authors (handle COLLATE NOCASE)",
    # Index what is already there.
    "INSERT INTO messages_search (messages_search) VALUES ('rebuild')",
    "INSERT INTO authors_search (authors_search) VALUES ('rebuild')",
]

POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # Stored, so a common word's newest matches can be read walking messages newest first.
    "ALTER TABLE messages ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, (subject::text || ' '::text) || text)) STORED",
    "CREATE INDEX ix_messages_search ON messages USING gin (search_vector)",
    "CREATE INDEX ix_authors_handle_lower ON authors (lower(handle))",
    "CREATE INDEX ix_authors_handle_trgm ON authors USING gin (lower(handle) gin_trgm_ops)",
    "CREATE INDEX ix_authors_name_trgm ON authors USING gin (lower(name) gin_trgm_ops)",
]


def upgrade():
    for statement in {'sqlite': SQLITE, 'postgresql': POSTGRESQL}[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade():
    for name in ('ix_authors_name_trgm', 'ix_authors_handle_trgm', 'ix_authors_handle_lower', 'ix_authors_handle_nocase',
                 'ix_messages_search'):
        op.execute(f"DROP INDEX IF EXISTS {name}")
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TABLE messages DROP COLUMN IF EXISTS search_vector")
    if op.get_bind().dialect.name == 'sqlite':
        # Dropping an FTS5 table drops its shadow tables; the triggers go by name.
        for table in ('messages', 'authors'):
            for event in ('insert', 'update', 'delete'):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_search_{event}")
            op.execute(f"DROP TABLE IF EXISTS {table}_search")
