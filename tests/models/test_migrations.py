"""Alembic: one head, and upgrade from empty gives exactly the models' schema."""

import os

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from tests.factories import ROOT
from workspace.extensions import db
from workspace.models import SEARCH_OBJECTS

MIGRATIONS = str(ROOT / "migrations")


def test_there_is_exactly_one_head():
    """Two heads mean two migrations were written in parallel and never merged."""
    config = AlembicConfig(os.path.join(MIGRATIONS, "alembic.ini"))
    config.set_main_option("script_location", MIGRATIONS)
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_upgrade_from_empty_matches_the_models(app):
    """On an empty database (SQLite and PostgreSQL), upgrade builds the schema the models declare."""
    with app.app_context():
        database_at("head")
        with db.engine.connect() as connection:
            # The search index lives outside the metadata (models/search_index.py); 0013 builds it.
            context = MigrationContext.configure(connection, opts={"include_name": outside_search_index})
            differences = compare_metadata(context, db.metadata)
            version = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        assert differences == []
        assert version is not None
        with db.engine.begin() as connection:
            connection.execute(sa.text("DROP TABLE alembic_version"))


@pytest.mark.parametrize("statement", ["PRAGMA journal_mode", "PRAGMA foreign_keys"])
def test_sqlite_runs_in_wal_mode_with_foreign_keys(app, statement):
    """Every SQLite connection is tuned: WAL journal and enforced foreign keys."""
    with app.app_context(), db.engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            pytest.skip("SQLite-only setting")
        assert str(connection.execute(sa.text(statement)).scalar()).lower() in ("wal", "1")


def outside_search_index(name, type_, parent_names) -> bool:
    """Compare everything but the search index's own tables and indexes."""
    return name not in SEARCH_OBJECTS


def database_at(revision: str) -> None:
    """Empty the database, then migrate it up to `revision` only (call inside an app context)."""
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(directory=MIGRATIONS, revision=revision)


def add_channel_and_author(connection) -> None:
    """Rows (ids 1) that conversations inserted by hand at an old revision can point at."""
    connection.execute(sa.text("INSERT INTO channels (id, slug, name, kind, secret, enabled, created_at) "
                               "VALUES (1, 'c', 'c', 'native', 's', true, CURRENT_TIMESTAMP)"))
    connection.execute(sa.text("INSERT INTO authors (id, channel_id, external_id, handle, name, followers, "
                               "verified, tags, created_at, updated_at) VALUES (1, 1, 'a', 'a', 'a', 0, false, "
                               "'[]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))


def test_upgrading_a_database_with_rows_fills_new_required_columns(app):
    """Agents and messages that predate 0003 get its new NOT NULL columns' defaults."""
    with app.app_context():
        database_at("0002")
        with db.engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO agents (email, name, role, active, created_at) "
                "VALUES ('old@example.com', 'Old', 'agent', true, CURRENT_TIMESTAMP)"))
        upgrade(directory=MIGRATIONS)
        with db.engine.begin() as connection:
            assert connection.execute(sa.text("SELECT session_version FROM agents")).scalar() == 1
            connection.execute(sa.text("DROP TABLE alembic_version"))


def test_upgrading_fills_missing_due_times_with_not_due(app):
    """Conversations stored with no due time before 0005 page correctly after it: they become NOT_DUE."""
    from workspace.models import NOT_DUE, Conversation

    with app.app_context():
        database_at("0004")
        with db.engine.begin() as connection:
            add_channel_and_author(connection)
            connection.execute(sa.text(
                "INSERT INTO conversations (id, channel_id, author_id, status, priority, priority_score, subject, "
                "tags, created_at, updated_at, last_message_at) VALUES (1, 1, 1, 'open', 2, 0, '', '[]', "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        upgrade(directory=MIGRATIONS)
        assert db.session.get(Conversation, 1).sla_due_at == NOT_DUE
        db.session.remove()
        with db.engine.begin() as connection:
            connection.execute(sa.text("DROP TABLE alembic_version"))
