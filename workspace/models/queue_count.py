"""Kept queue counts: open, unassigned and pending conversations per queue, without COUNT(*).

Every change to a conversation's queue, status or assignee (and every insert
or delete of a counted one) appends a row of signed changes here, written by
database triggers in the same transaction as the change. A queue's counts are
the sum of its rows; folding (models/counts.py) replaces a queue's rows by
their sum now and then, so the sum stays a handful of rows.

Why triggers and appended rows rather than `UPDATE counters SET n = n + :d`
from the application:
- nothing can bypass them: the ORM, the Core ingest path, get-next's
  conditional UPDATE, a bulk action's `UPDATE ... WHERE id IN (...)` and a
  hand-typed SQL fix all keep the counts right without knowing they exist;
- appending never waits on a shared row. On PostgreSQL, two routing jobs
  incrementing the counters of queues A and B in opposite orders deadlock,
  and every change to a busy queue would queue up behind its counter row
  until the transaction holding it commits.
"""

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db

# The statuses the counts cover; others (new, resolved, escalated, spam) count nowhere.
COUNTED = "('open', 'pending')"


class QueueCount(db.Model):
    """A signed change to one queue's counts; a queue's counts are the sum of its rows."""

    __tablename__ = "queue_counts"
    __table_args__ = (sa.Index("ix_queue_counts_queue", "queue_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    queue_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("queues.id"))
    open: so.Mapped[int] = so.mapped_column(default=0)
    unassigned: so.Mapped[int] = so.mapped_column(default=0)
    pending: so.Mapped[int] = so.mapped_column(default=0)


def _values(row: str, sign: str, as_int: str) -> str:
    """What one conversation row (OLD or NEW) adds to its queue's counts (sign "-" takes it away)."""
    return (f"{row}.queue_id, {sign}({row}.status = 'open'){as_int}, "
            f"{sign}({row}.status = 'open' AND {row}.assignee_id IS NULL){as_int}, "
            f"{sign}({row}.status = 'pending'){as_int}")


def _counted(row: str) -> str:
    return f"{row}.queue_id IS NOT NULL AND {row}.status IN {COUNTED}"


def _changed(distinct: str) -> str:
    """An update changes the counts: it moved a counted conversation, or changed what it counts as."""
    return (f"(OLD.queue_id {distinct} NEW.queue_id AND (OLD.status IN {COUNTED} OR NEW.status IN {COUNTED}))"
            " OR (OLD.status = 'open') <> (NEW.status = 'open')"
            " OR (OLD.status = 'pending') <> (NEW.status = 'pending')"
            " OR (OLD.status = 'open' AND OLD.assignee_id IS NULL)"
            " <> (NEW.status = 'open' AND NEW.assignee_id IS NULL)")


INSERT = "INSERT INTO queue_counts (queue_id, open, unassigned, pending)"
UPDATED_COLUMNS = "queue_id, status, assignee_id"

# SQLite: booleans are already 0 or 1; a trigger body is plain statements.
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER queue_counts_insert AFTER INSERT ON conversations WHEN {_counted('NEW')} "
    f"BEGIN {INSERT} VALUES ({_values('NEW', '', '')}); END",
    f"CREATE TRIGGER queue_counts_update AFTER UPDATE OF {UPDATED_COLUMNS} ON conversations "
    f"WHEN {_changed('IS NOT')} BEGIN "
    f"{INSERT} SELECT {_values('OLD', '-', '')} WHERE {_counted('OLD')}; "
    f"{INSERT} SELECT {_values('NEW', '', '')} WHERE {_counted('NEW')}; END",
    f"CREATE TRIGGER queue_counts_delete AFTER DELETE ON conversations WHEN {_counted('OLD')} "
    f"BEGIN {INSERT} VALUES ({_values('OLD', '-', '')}); END",
]

# PostgreSQL: one function for the three triggers; booleans are cast to integers.
POSTGRESQL_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION queue_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"IF TG_OP <> 'INSERT' AND {_counted('OLD')} THEN {INSERT} VALUES ({_values('OLD', '-', '::int')}); END IF; "
    f"IF TG_OP <> 'DELETE' AND {_counted('NEW')} THEN {INSERT} VALUES ({_values('NEW', '', '::int')}); END IF; "
    "RETURN NULL; END $$",
    f"CREATE TRIGGER queue_counts_insert AFTER INSERT ON conversations FOR EACH ROW WHEN ({_counted('NEW')}) "
    "EXECUTE FUNCTION queue_counts_track()",
    f"CREATE TRIGGER queue_counts_update AFTER UPDATE OF {UPDATED_COLUMNS} ON conversations FOR EACH ROW "
    f"WHEN ({_changed('IS DISTINCT FROM')}) EXECUTE FUNCTION queue_counts_track()",
    f"CREATE TRIGGER queue_counts_delete AFTER DELETE ON conversations FOR EACH ROW WHEN ({_counted('OLD')}) "
    "EXECUTE FUNCTION queue_counts_track()",
]

TRIGGERS = {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRESQL_TRIGGERS}


@sa.event.listens_for(db.metadata, "after_create")
def _create_triggers(metadata, connection, tables=(), **kwargs) -> None:
    """create_all (tests, benches) gets the triggers too; migrations create them in 0011."""
    if not any(table.name == "conversations" for table in tables):
        return  # the table existed already, and so did its triggers
    for statement in TRIGGERS.get(connection.dialect.name, ()):
        connection.exec_driver_sql(statement)
