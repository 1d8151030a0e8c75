"""The full-text search index: SQLite FTS5 tables or PostgreSQL expression indexes, kept by the database.

SQLite: two FTS5 tables with external content (the text is stored once, in
`messages` and `authors`), kept in step by triggers in the same transaction as
every insert, edit or delete of the row they index. So the Core ingest path,
the ORM, a bulk UPDATE and a hand-typed fix all keep the index right, and a
post is findable by the transaction that stored it.

PostgreSQL: a stored generated `tsvector` column on messages with a GIN index
(both computed by the database itself, in the same transaction), and `pg_trgm`
indexes on authors' handles and names for substring search ("ord" finds
"@ordersbot", "1234" an order number in a handle).

Neither is part of the SQLAlchemy metadata (FTS5 virtual tables and expression
indexes are not something it declares portably): `create_all` builds them
through the listener below, migration 0013 for real databases, and the
migrations test leaves the names in SEARCH_OBJECTS out of its comparison.
"""

import sqlalchemy as sa

from workspace.extensions import db

# Both dialects tokenize words the same way: lower-cased runs of letters and
# digits, no stemming ("simple" on PostgreSQL, unicode61 on SQLite), so a query
# parsed in Python matches the same tokens on either.
MESSAGES_FTS = "messages_search"
AUTHORS_FTS = "authors_search"
# The PostgreSQL text-search vector of a message. Stored, not only indexed: a common word's
# newest matches are found walking messages newest first and reading it, where an
# expression index alone would make PostgreSQL re-parse every post it passes.
MESSAGE_VECTOR = "to_tsvector('simple'::regconfig, (subject::text || ' '::text) || text)"
VECTOR_COLUMN = "search_vector"


def _fts5(table: str, source: str, columns: tuple[str, ...], changed: str = "") -> list[str]:
    """An external-content FTS5 table over `source` and the three triggers that keep it in step."""
    names, new, old = ", ".join(columns), ", ".join(f"NEW.{c}" for c in columns), ", ".join(f"OLD.{c}" for c in columns)
    add = f"INSERT INTO {table} (rowid, {names}) VALUES (NEW.id, {new});"
    remove = f"INSERT INTO {table} ({table}, rowid, {names}) VALUES ('delete', OLD.id, {old});"
    return [
        f"CREATE VIRTUAL TABLE {table} USING fts5({names}, content='{source}', content_rowid='id')",
        f"CREATE TRIGGER {table}_insert AFTER INSERT ON {source} BEGIN {add} END",
        f"CREATE TRIGGER {table}_update AFTER UPDATE OF {names} ON {source} {changed} BEGIN {remove} {add} END",
        f"CREATE TRIGGER {table}_delete AFTER DELETE ON {source} BEGIN {remove} END",
    ]


SQLITE = [
    *_fts5(MESSAGES_FTS, "messages", ("subject", "text")),
    # Ingest rewrites every author's profile on each post; only a real change touches the index.
    *_fts5(AUTHORS_FTS, "authors", ("handle", "name"), "WHEN OLD.handle IS NOT NEW.handle OR OLD.name IS NOT NEW.name"),
    "CREATE INDEX ix_authors_handle_nocase ON authors (handle COLLATE NOCASE)",
]

POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"ALTER TABLE messages ADD COLUMN {VECTOR_COLUMN} tsvector GENERATED ALWAYS AS ({MESSAGE_VECTOR}) STORED",
    f"CREATE INDEX ix_messages_search ON messages USING gin ({VECTOR_COLUMN})",
    "CREATE INDEX ix_authors_handle_lower ON authors (lower(handle))",
    "CREATE INDEX ix_authors_handle_trgm ON authors USING gin (lower(handle) gin_trgm_ops)",
    "CREATE INDEX ix_authors_name_trgm ON authors USING gin (lower(name) gin_trgm_ops)",
]

DDL = {"sqlite": SQLITE, "postgresql": POSTGRESQL}

# Tables, columns and indexes the index adds outside the metadata (FTS5 keeps shadow tables beside each table).
SEARCH_OBJECTS = frozenset(
    [f"{table}{suffix}" for table in (MESSAGES_FTS, AUTHORS_FTS)
     for suffix in ("", "_data", "_idx", "_docsize", "_config", "_content")]
    + [VECTOR_COLUMN, "ix_messages_search", "ix_authors_handle_lower", "ix_authors_handle_nocase",
       "ix_authors_handle_trgm", "ix_authors_name_trgm"])


@sa.event.listens_for(db.metadata, "after_create")
def _create_index(metadata, connection, tables=(), **kwargs) -> None:
    """create_all (tests, benches) builds the search index too; migrations build it in 0013."""
    if not any(table.name == "messages" for table in tables):
        return  # the tables existed already, and so did their index
    for statement in DDL.get(connection.dialect.name, ()):
        connection.exec_driver_sql(statement)


@sa.event.listens_for(db.metadata, "before_drop")
def _drop_index(metadata, connection, tables=(), **kwargs) -> None:
    """drop_all removes the FTS5 tables too (their triggers go with the tables they watch)."""
    if connection.dialect.name == "sqlite" and any(table.name == "messages" for table in tables):
        for table in (MESSAGES_FTS, AUTHORS_FTS):
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
