"""The notifications each agent reads: recorded once per event, listed newest first, counted, marked read."""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from workspace.errors import ValidationError
from workspace.extensions import db
from workspace.live import signals
from workspace.live.changes import announce
from workspace.live.publish import publish
from workspace.live.rooms import agent_room
from workspace.models import Agent, Notification, utcnow
from workspace.serializers import serialize_notification

# At most this many ids are marked read in one call.
MAX_MARK = 500
MAX_TITLE = 200


@dataclass(frozen=True)
class Draft:
    """One notification to record: for whom, what kind, the event behind it (its key) and its title."""

    agent_id: int
    kind: str
    key: str
    title: str
    conversation_id: int | None = None
    incident_id: int | None = None
    actor_id: int | None = None


def record(drafts: list[Draft]) -> list[Notification]:
    """Store the drafts not stored before (by agent and key), commit, emit each to its agent's room, and ask
    for the pushes.

    Returns:
        The notifications this call created (a draft already recorded creates nothing).
    """
    if not drafts:
        return []
    now = utcnow()
    rows = [{"agent_id": d.agent_id, "kind": d.kind, "key": d.key[:120], "title": d.title[:MAX_TITLE],
             "conversation_id": d.conversation_id, "incident_id": d.incident_id, "actor_id": d.actor_id,
             "created_at": now} for d in {(d.agent_id, d.key): d for d in drafts}.values()]
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Notification).on_conflict_do_nothing(index_elements=["agent_id", "key"])
    # One statement for the lot (RETURNING gives the ids of the rows inserted, not of those already there).
    created_ids = list(db.session.scalars(statement.returning(Notification.id), rows))
    db.session.commit()
    created = db.session.scalars(sa.select(Notification).where(Notification.id.in_(created_ids))
                                 .order_by(Notification.id)).all() if created_ids else []
    agent_ids = sorted({n.agent_id for n in created})
    unread = unread_counts(agent_ids)
    # One event per agent for the lot (each emit is a Redis PUBLISH: a burst of 500 would otherwise be 500).
    for agent_id in agent_ids:
        mine = [serialize_notification(n) for n in created if n.agent_id == agent_id]
        publish("notification.created", {"notifications": mine, "unread": unread[agent_id]}, agent_room(agent_id))
    announce(signals.notifications_created, *agent_ids)
    return created


def list_notifications(agent: Agent, *, limit: int, before: int | None = None,
                       unread_only: bool = False) -> tuple[list[Notification], int | None]:
    """An agent's notifications, newest first, a page at a time.

    Returns:
        The page and the id to pass as `before` for the next one (None at the end).
    """
    query = sa.select(Notification).where(Notification.agent_id == agent.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if before is not None:
        query = query.where(Notification.id < before)
    rows = db.session.scalars(query.order_by(Notification.id.desc()).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def unread_counts(agent_ids: list[int]) -> dict[int, int]:
    """How many unread notifications each of these agents has (read off the agent-and-read index)."""
    counts = dict.fromkeys(agent_ids, 0)
    if agent_ids:
        counts.update(db.session.execute(
            sa.select(Notification.agent_id, sa.func.count()).where(
                Notification.agent_id.in_(agent_ids), Notification.read_at.is_(None))
            .group_by(Notification.agent_id)).all())
    return counts


def mark_read(agent: Agent, data: dict) -> int:
    """Mark the agent's own notifications read: `{"ids": [...]}`, `{"conversation_id": n}` or `{"all": true}`;
    the agent's rooms hear the new unread count.

    Returns:
        How many were unread and are read now (ids of others' notifications change nothing).
    """
    query = sa.update(Notification).where(Notification.agent_id == agent.id, Notification.read_at.is_(None))
    if data.get("all") is True:
        pass
    elif "ids" in data:
        ids = data["ids"]
        if not isinstance(ids, list) or not ids or len(ids) > MAX_MARK:
            raise ValidationError(f"ids: from 1 to {MAX_MARK} notification ids", code="invalid_field")
        query = query.where(Notification.id.in_(ids))
    elif "conversation_id" in data:
        query = query.where(Notification.conversation_id == data["conversation_id"])
    else:
        raise ValidationError('one of "ids", "conversation_id" or "all": true is required', code="invalid_field")
    changed = db.session.execute(query.values(read_at=utcnow()).execution_options(synchronize_session=False)
                                 ).rowcount
    db.session.commit()
    publish("notification.read", {"unread": unread_counts([agent.id])[agent.id]}, agent_room(agent.id))
    return changed

