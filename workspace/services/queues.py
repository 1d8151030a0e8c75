"""Reading queues: live counts and the ordered, paginated work list."""

import base64
import json
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..errors import ValidationError
from ..extensions import db
from ..models import STATUSES, Agent, Conversation, Queue, queue_members


def visible_queue_ids(agent: Agent) -> list[int]:
    """The queues an agent may see: supervisors and admins see all, agents their own."""
    if agent.role in ("supervisor", "admin"):
        return list(db.session.scalars(sa.select(Queue.id).order_by(Queue.id)))
    return list(db.session.scalars(
        sa.select(queue_members.c.queue_id).where(queue_members.c.agent_id == agent.id)
        .order_by(queue_members.c.queue_id)))


def queue_counts(queue_ids: list[int]) -> dict[int, dict]:
    """Return open, unassigned and pending counts for each queue id."""
    counts = {queue_id: {"open": 0, "unassigned": 0, "pending": 0} for queue_id in queue_ids}
    rows = db.session.execute(
        sa.select(
            Conversation.queue_id, Conversation.status,
            sa.func.count(), sa.func.count(Conversation.assignee_id),
        )
        .where(Conversation.queue_id.in_(queue_ids), Conversation.status.in_(("open", "pending")))
        .group_by(Conversation.queue_id, Conversation.status)
    )
    for queue_id, status, total, assigned in rows:
        counts[queue_id][status] = total
        if status == "open":
            counts[queue_id]["unassigned"] = total - assigned
    return counts


# The queue's order: priority level, then SLA due time, then age.
ORDER = (Conversation.priority, Conversation.sla_due_at, Conversation.created_at, Conversation.id)


def list_conversations(queue: Queue, *, status: str, limit: int, cursor: str | None):
    """Return one page of a queue's conversations in work order, and the next cursor.

    Args:
        queue: the queue to list.
        status: one status to list (the ordered index covers one at a time).
        limit: page size.
        cursor: the opaque cursor a previous page returned, or None.

    Returns:
        (conversations, next_cursor or None)
    """
    if status not in STATUSES:
        raise ValidationError(f"status: must be one of {', '.join(STATUSES)}", code="invalid_field")
    query = (
        sa.select(Conversation)
        .where(Conversation.queue_id == queue.id, Conversation.status == status)
        .options(so.joinedload(Conversation.author), so.joinedload(Conversation.assignee),
                 so.joinedload(Conversation.channel), so.joinedload(Conversation.queue))
        .order_by(*ORDER)
        .limit(limit + 1)
    )
    if cursor:
        values = _decode_cursor(cursor)
        after = [sa.literal(value, type_=column.type) for column, value in zip(ORDER, values, strict=True)]
        query = query.where(sa.tuple_(*ORDER) > sa.tuple_(*after))
    rows = db.session.scalars(query).unique().all()
    next_cursor = _encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def _encode_cursor(conversation: Conversation) -> str:
    key = [conversation.priority, conversation.sla_due_at.isoformat() if conversation.sla_due_at else None,
           conversation.created_at.isoformat(), conversation.id]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        priority, due, created, last_id = json.loads(raw)
        return (int(priority), datetime.fromisoformat(due) if due else None,
                datetime.fromisoformat(created), int(last_id))
    except (ValueError, TypeError, json.JSONDecodeError):
        raise ValidationError("cursor: not a cursor this API returned", code="invalid_cursor")
