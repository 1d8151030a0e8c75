"""The stub's storage: its own small SQLite file (never Switchboard's tables), one connection per use."""

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, email TEXT UNIQUE, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT, external_id TEXT, subject TEXT NOT NULL, description TEXT NOT NULL,
    status TEXT NOT NULL, priority TEXT, type TEXT, tags TEXT NOT NULL, requester_id INTEGER NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, webhook TEXT);
CREATE INDEX IF NOT EXISTS ix_tickets_external_id ON tickets (external_id);
CREATE TABLE IF NOT EXISTS comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ticket_id INTEGER NOT NULL, body TEXT NOT NULL, public INTEGER NOT NULL,
    author_id INTEGER NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audits (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ticket_id INTEGER NOT NULL, author_id INTEGER NOT NULL,
    events TEXT NOT NULL, created_at TEXT NOT NULL);
"""
# What a change to these fields is called in an audit's events (Zendesk's "Create"/"Change").
AUDITED_FIELDS = ("subject", "status", "priority", "type", "tags")
# The ticket columns a search may compare (the only names put into its SQL).
SEARCHABLE = ("external_id", "status", "priority", "type", "subject")


def now() -> str:
    """The current time as Zendesk writes it: ISO 8601, UTC, seconds, Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Store:
    """Tickets, their requesters, comments and audits in one SQLite file."""

    def __init__(self, path: str):
        self.path = path
        with self.connect() as connection:
            connection.executescript(SCHEMA)

    @contextlib.contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection of its own (per call: requests and webhook threads never share one), closed after;
        a transaction left open by an error is rolled back."""
        connection = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        connection.row_factory = sqlite3.Row
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            # WAL with NORMAL sync: a crash may lose the last moments, never corrupts; plenty for a stub.
            connection.execute("PRAGMA synchronous=NORMAL")
            yield connection
        finally:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            connection.close()

    @staticmethod
    def _user_id(connection, who: dict) -> int:
        """The id of a user given as {"id": n} (known), or {"name", "email"}: found by email or created."""
        if who.get("id") is not None:
            return who["id"]
        email = (who.get("email") or "").lower() or None
        if email:
            row = connection.execute("SELECT id FROM users WHERE email = ?", (email,)).fetchone()
            if row:
                return row["id"]
        cursor = connection.execute("INSERT INTO users (name, email, created_at) VALUES (?, ?, ?)",
                                    (who.get("name") or (email or "").split("@")[0] or "Unknown", email, now()))
        return cursor.lastrowid

    def user_exists(self, user_id: int) -> bool:
        """Tell whether a user id is known."""
        with self.connect() as connection:
            return connection.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone() is not None

    def create(self, fields: dict, comment: dict, requester: dict, author: dict) -> tuple[dict, dict]:
        """Store a new ticket with its first comment; returns (ticket row, audit).

        Args:
            fields: subject, status, priority, type, tags, external_id (validated).
            comment: {"body", "public"}, the ticket's description.
            requester, author: users as {"id": n} or {"name", "email"} (found by email, or created).
        """
        stamp = now()
        with self.connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            requester_id, author_id = self._user_id(connection, requester), self._user_id(connection, author)
            cursor = connection.execute(
                "INSERT INTO tickets (external_id, subject, description, status, priority, type, tags, requester_id,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (fields.get("external_id"), fields.get("subject") or "", comment["body"], fields.get("status", "new"),
                 fields.get("priority"), fields.get("type"), json.dumps(fields.get("tags", [])), requester_id,
                 stamp, stamp))
            ticket_id = cursor.lastrowid
            events = [{"type": "Comment", "body": comment["body"], "public": comment["public"]}]
            events += [{"type": "Create", "field_name": name, "value": value} for name, value in
                       ((name, fields.get(name, "new" if name == "status" else None)) for name in AUDITED_FIELDS)]
            audit = self._record(connection, ticket_id, author_id, comment, events, stamp)
            connection.execute("COMMIT")
            return self._ticket(connection, ticket_id), audit

    def update(self, ticket_id: int, changes: dict, comment: dict | None, author: dict) -> tuple[dict, dict, str]:
        """Apply changes (and a comment) to a ticket in one transaction.

        Returns:
            (ticket row after, audit, status before).
        """
        stamp = now()
        with self.connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            author_id = self._user_id(connection, author)
            before = self._ticket(connection, ticket_id)
            events = []
            for name, value in changes.items():
                old = json.loads(before["tags"]) if name == "tags" else before[name]
                if value != old:
                    events.append({"type": "Change", "field_name": name, "value": value, "previous_value": old})
                    connection.execute(f"UPDATE tickets SET {name} = ? WHERE id = ?",  # noqa: S608 - names from AUDITED_FIELDS
                                       (json.dumps(value) if name == "tags" else value, ticket_id))
            if comment:
                events.insert(0, {"type": "Comment", "body": comment["body"], "public": comment["public"]})
            if events:
                connection.execute("UPDATE tickets SET updated_at = ? WHERE id = ?", (stamp, ticket_id))
            audit = self._record(connection, ticket_id, author_id, comment, events, stamp)
            connection.execute("COMMIT")
            return self._ticket(connection, ticket_id), audit, before["status"]

    def _record(self, connection, ticket_id: int, author_id: int, comment: dict | None, events: list,
                stamp: str) -> dict:
        """Store the comment (if any) and the audit of one change; returns the audit as the API shows it."""
        if comment:
            cursor = connection.execute(
                "INSERT INTO comments (ticket_id, body, public, author_id, created_at) VALUES (?, ?, ?, ?, ?)",
                (ticket_id, comment["body"], int(comment["public"]), author_id, stamp))
            events[0]["id"] = cursor.lastrowid
        cursor = connection.execute("INSERT INTO audits (ticket_id, author_id, events, created_at) VALUES (?, ?, ?, ?)",
                                    (ticket_id, author_id, json.dumps(events), stamp))
        return {"id": cursor.lastrowid, "ticket_id": ticket_id, "author_id": author_id, "created_at": stamp,
                "events": events}

    def get(self, ticket_id: int) -> dict | None:
        """One ticket row, or None (also for ids no SQLite integer can hold)."""
        if not 0 < ticket_id < 2**63:
            return None
        with self.connect() as connection:
            return self._ticket(connection, ticket_id)

    def page(self, *, offset: int, limit: int, external_id: str | None = None) -> tuple[list[dict], int]:
        """Tickets in id order from offset (all, or those with this external_id), and how many there are."""
        where, args = ("WHERE external_id = ?", (external_id,)) if external_id is not None else ("", ())
        return self._select(where, args, offset, limit)

    def search(self, *, equal: dict[str, str], tags: list[str], words: list[str], offset: int,
               limit: int) -> tuple[list[dict], int]:
        """Tickets whose SEARCHABLE columns equal these values, which carry every tag and contain every word
        (in subject or description), case-insensitively, in id order from offset; and how many match."""
        where, args = [], []
        for column, value in equal.items():
            if column not in SEARCHABLE:
                raise ValueError(f"not a searchable column: {column}")
            where.append(f"lower(coalesce(t.{column}, '')) = ?")
            args.append(value.lower())
        for tag in tags:  # tags are stored as a JSON list of lower-case words
            where.append("instr(t.tags, ?) > 0")
            args.append(json.dumps(tag.lower()))
        for word in words:
            where.append("instr(lower(t.subject || ' ' || t.description), ?) > 0")
            args.append(word.lower())
        return self._select("WHERE " + " AND ".join(where) if where else "", tuple(args), offset, limit)

    def _select(self, where: str, args: tuple, offset: int, limit: int) -> tuple[list[dict], int]:
        with self.connect() as connection:
            count = connection.execute(f"SELECT count(*) FROM tickets t {where}", args).fetchone()[0]
            rows = connection.execute(f"SELECT t.*, u.name AS requester_name, u.email AS requester_email FROM tickets t"
                                      f" JOIN users u ON u.id = t.requester_id {where} ORDER BY t.id LIMIT ? OFFSET ?",
                                      (*args, limit, offset)).fetchall()
        return [dict(row) for row in rows], count

    def comments(self, ticket_id: int) -> list[dict]:
        """A ticket's comments, oldest first."""
        with self.connect() as connection:
            return [dict(row) for row in connection.execute(
                "SELECT c.*, u.name AS author_name FROM comments c JOIN users u ON u.id = c.author_id"
                " WHERE ticket_id = ? ORDER BY c.id", (ticket_id,))]

    def note_webhook(self, ticket_id: int, outcome: str) -> None:
        """Remember how the last status webhook for a ticket went (shown on the page)."""
        with self.connect() as connection:
            connection.execute("UPDATE tickets SET webhook = ? WHERE id = ?", (outcome[:300], ticket_id))

    @staticmethod
    def _ticket(connection, ticket_id: int) -> dict | None:
        row = connection.execute("SELECT t.*, u.name AS requester_name, u.email AS requester_email FROM tickets t"
                                 " JOIN users u ON u.id = t.requester_id WHERE t.id = ?", (ticket_id,)).fetchone()
        return dict(row) if row else None
