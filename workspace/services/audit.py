"""The audit log: recording agent actions, and reading them back filtered by who, what and when."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from workspace.errors import ValidationError
from workspace.extensions import db
from workspace.models import Agent, AuditEntry, is_id
from workspace.serializers import timestamp

# Longest action or target type a filter may name (the columns' widths).
MAX_ACTION_CHARS = 64
MAX_TARGET_TYPE_CHARS = 32
# Rows an export reads from the database at a time while it streams.
EXPORT_BATCH = 500


def record(agent: Agent | None, action: str, target_type: str, target_id: int | None,
           before: dict | None = None, after: dict | None = None) -> AuditEntry:
    """Add an audit entry to the current transaction (the caller commits it with the change).

    Args:
        agent: who acted (None for the system).
        action: what they did, e.g. "rule.update".
        target_type: the kind of thing changed, e.g. "rule".
        target_id: its id.
        before: its state before, if it existed.
        after: its state after, if it still exists.

    Returns:
        The new entry.
    """
    entry = AuditEntry(agent_id=agent.id if agent else None, action=action, target_type=target_type,
                       target_id=target_id, before=before, after=after)
    db.session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditFilter:
    """Which entries a reader wants: by whom (an agent id, or "system"), what, on what, and when."""

    agent: int | str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def parse_filter(args) -> AuditFilter:
    """Read the filters from query arguments; a ValidationError names the one that is wrong.

    `agent` is an agent's id or `system`; `action` matches exactly, or by prefix when it ends in `.`
    (`rule.` for every rule change); `from` and `to` are ISO 8601 dates or times (UTC unless they say).
    """
    agent = _blank_none(args.get("agent"))
    if agent is not None and agent != "system":
        if not (agent.isascii() and agent.isdigit()):
            raise ValidationError("agent: an agent's id, or \"system\"", code="invalid_field")
        if _as_id(agent) is None or db.session.get(Agent, _as_id(agent)) is None:
            raise ValidationError(f"agent: no agent has the id {agent[:20]}", code="invalid_field")
        agent = _as_id(agent)
    target_id = _blank_none(args.get("target_id"))
    if target_id is not None:
        target_id = _as_id(target_id)
        if target_id is None:
            raise ValidationError("target_id: an id", code="invalid_field")
    since, until = _moment(args, "from"), _moment(args, "to")
    if since and until and since > until:
        raise ValidationError("from: must not be after to", code="invalid_field")
    return AuditFilter(agent=agent, action=_word(args, "action", MAX_ACTION_CHARS),
                       target_type=_word(args, "target_type", MAX_TARGET_TYPE_CHARS), target_id=target_id,
                       since=since, until=until)


def _as_id(value: str) -> int | None:
    """The id a query argument names, or None when it is not one (digits only; the length keeps int() cheap)."""
    if value.isascii() and value.isdigit() and len(value) <= 15 and is_id(int(value)):
        return int(value)
    return None


def _blank_none(value: str | None) -> str | None:
    return None if value is None or value.strip() == "" else value.strip()


def _word(args, name: str, limit: int) -> str | None:
    value = _blank_none(args.get(name))
    if value is not None and (len(value) > limit or "\x00" in value):
        raise ValidationError(f"{name}: at most {limit} characters, without NUL", code="invalid_field")
    return value


def _moment(args, name: str) -> datetime | None:
    """An ISO 8601 date (its midnight; for `to`, its end) or date-time, in UTC."""
    value = _blank_none(args.get(name))
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"{name}: an ISO 8601 date or time, e.g. 2026-12-01 or 2026-12-01T09:30:00Z",
                              code="invalid_field") from None
    if name == "to" and len(value) == 10:  # a bare date: the whole day
        moment = moment.replace(hour=23, minute=59, second=59, microsecond=999999)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _query(found: AuditFilter) -> sa.Select:
    query = sa.select(AuditEntry).order_by(AuditEntry.id.desc())
    if found.agent == "system":
        query = query.where(AuditEntry.agent_id.is_(None))
    elif found.agent is not None:
        query = query.where(AuditEntry.agent_id == found.agent)
    if found.action is not None:
        query = query.where(AuditEntry.action.startswith(found.action, autoescape=True)
                            if found.action.endswith(".") else AuditEntry.action == found.action)
    if found.target_type is not None:
        query = query.where(AuditEntry.target_type == found.target_type)
    if found.target_id is not None:
        query = query.where(AuditEntry.target_id == found.target_id)
    if found.since is not None:
        query = query.where(AuditEntry.created_at >= found.since)
    if found.until is not None:
        query = query.where(AuditEntry.created_at <= found.until)
    return query


def list_entries(found: AuditFilter, *, limit: int, cursor: str | None = None) -> tuple[list[AuditEntry], str | None]:
    """A page of matching entries, newest first.

    Args:
        found: the filters.
        limit: the page size.
        cursor: the `next_cursor` of the previous page.

    Returns:
        (the entries, the cursor of the next page or None at the end)
    """
    query = _query(found)
    if cursor is not None:
        if _as_id(cursor) is None:
            raise ValidationError("cursor: not a cursor this API returned", code="invalid_cursor")
        query = query.where(AuditEntry.id < _as_id(cursor))
    rows = list(db.session.scalars(query.options(sa.orm.selectinload(AuditEntry.agent)).limit(limit + 1)))
    page = rows[:limit]
    return page, str(page[-1].id) if len(rows) > limit else None


def each_entry(found: AuditFilter) -> Iterator[AuditEntry]:
    """Every matching entry, newest first, read EXPORT_BATCH at a time (for a streamed export)."""
    before = None
    while True:
        query = _query(found).options(sa.orm.selectinload(AuditEntry.agent)).limit(EXPORT_BATCH)
        if before is not None:
            query = query.where(AuditEntry.id < before)
        batch = list(db.session.scalars(query))
        yield from batch
        if len(batch) < EXPORT_BATCH:
            return
        before = batch[-1].id


def serialize_entry(entry: AuditEntry) -> dict:
    """One entry as the API shows it: who (null for the system), what, on what, when, before and after."""
    return {"id": entry.id, "agent": None if entry.agent is None else {"id": entry.agent.id, "name": entry.agent.name},
            "action": entry.action, "target_type": entry.target_type, "target_id": entry.target_id,
            "before": entry.before, "after": entry.after, "created_at": timestamp(entry.created_at)}
