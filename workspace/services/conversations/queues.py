"""Reading queues: the ordered, paginated work list and previews (counts are in counts.py, search in search.py)."""

import base64
import json
from datetime import datetime

import sqlalchemy as sa

from workspace.errors import ValidationError
from workspace.extensions import db
from workspace.models import STATUSES, Agent, Conversation, Message, Queue, queue_members
from workspace.serializers import SERIALIZED

# List rows show this much of the latest post.
PREVIEW_CHARS = 160


def visible_queue_ids(agent: Agent) -> list[int]:
    """The queues an agent may see: supervisors and admins see all, agents their own."""
    if agent.role in ("supervisor", "admin"):
        return list(db.session.scalars(sa.select(Queue.id).order_by(Queue.id)))
    return list(db.session.scalars(
        sa.select(queue_members.c.queue_id).where(queue_members.c.agent_id == agent.id)
        .order_by(queue_members.c.queue_id)))


def previews(conversation_ids: list[int]) -> dict[int, str]:
    """The start of each conversation's latest inbound post, for list rows."""
    latest = (sa.select(sa.func.max(Message.id)).where(Message.conversation_id.in_(conversation_ids),
                                                       Message.direction == "inbound")
              .group_by(Message.conversation_id))
    rows = db.session.execute(sa.select(Message.conversation_id, sa.func.substr(Message.text, 1, PREVIEW_CHARS))
                              .where(Message.id.in_(latest)))
    return dict(rows.all())


# The queue's order: priority level, then SLA due time, then age.
ORDER = (Conversation.priority, Conversation.sla_due_at, Conversation.created_at, Conversation.id)


def first_in_order(branches: list[list], limit: int) -> list[int]:
    """The ids of the first `limit` conversations in work order matching any of the branches' conditions.

    A query over `queue_id IN (...)` or `status IN (...)` cannot read the
    queue-order index in order: it sorts every matching row, the whole
    backlog. Each branch here names one range of that index (one queue, one
    status), read in order and cut at `limit`; then only the branches' heads
    are merged.

    Args:
        branches: one list of WHERE conditions per index range (disjoint).
        limit: how many ids at most.

    Returns:
        The ids, in work order.
    """
    heads = [sa.select(*ORDER).where(*conditions).order_by(*ORDER).limit(limit).subquery() for conditions in branches]
    if not heads:
        return []
    merged = sa.union_all(*(sa.select(*head.c) for head in heads)).subquery()
    return list(db.session.scalars(
        sa.select(merged.c.id).order_by(merged.c.priority, merged.c.sla_due_at, merged.c.created_at, merged.c.id)
        .limit(limit)))


def list_conversations(queue: Queue, *, status: str, limit: int, cursor: str | None,
                       assignee_id: int | None | str = "any", tag: str | None = None, channel: str | None = None):
    """Return one page of a queue's conversations in work order, and the next cursor.

    Args:
        queue: the queue to list.
        status: one status to list (the ordered index covers one at a time).
        limit: page size.
        cursor: the opaque cursor a previous page returned, or None.
        assignee_id: an agent id, None for unassigned ones, or "any".
        tag: only conversations carrying this tag.
        channel: only conversations from this channel slug.

    Returns:
        (conversations, next_cursor or None)
    """
    return page_in_order(
        sa.select(Conversation).where(*queue_filter(queue, status=status, assignee_id=assignee_id, tag=tag,
                                                    channel=channel)), limit=limit, cursor=cursor)


def page_in_order(query, *, limit: int, cursor: str | None):
    """Return one page of a query of conversations in work order, and the next cursor (or None).

    Args:
        query: a select of Conversation with its conditions.
        limit: page size.
        cursor: the opaque cursor a previous page returned, or None.
    """
    query = query.options(*SERIALIZED).order_by(*ORDER).limit(limit + 1)
    if cursor:
        values = _decode_cursor(cursor)
        after = [sa.literal(value, type_=column.type) for column, value in zip(ORDER, values, strict=True)]
        query = query.where(sa.tuple_(*ORDER) > sa.tuple_(*after))
    rows = db.session.scalars(query).unique().all()
    next_cursor = _encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def queue_filter(queue: Queue, *, status: str, assignee_id: int | None | str = "any", tag: str | None = None,
                 channel: str | None = None) -> list:
    """The conditions of a queue's list with its filters (the console's list, and bulk's "all matching")."""
    if status not in STATUSES:
        raise ValidationError(f"status: must be one of {', '.join(STATUSES)}", code="invalid_field")
    conditions = [Conversation.queue_id == queue.id, Conversation.status == status]
    if assignee_id != "any":
        conditions.append(Conversation.assignee_id.is_(None) if assignee_id is None
                          else Conversation.assignee_id == assignee_id)
    if tag:
        # Tags are a JSON list of strings; its text holds "tag" with the quotes.
        conditions.append(sa.cast(Conversation.tags, sa.Text).contains(f'"{tag.lower()}"'))
    if channel:
        conditions.append(Conversation.channel.has(slug=channel))
    return conditions


def assignee_filter(value: str | None, agent: Agent):
    """Parse an assignee filter: 'me' is the agent, 'none' unassigned, a number that agent, absent anyone."""
    if value in (None, "", "any"):
        return "any"
    if value == "none":
        return None
    if value == "me":
        return agent.id
    if value.isascii() and value.isdigit() and len(value) <= 12:  # not '²', nor past what int() takes cheaply
        return int(value)
    raise ValidationError("assignee: me, none, any or an agent id", code="invalid_field")


def _encode_cursor(conversation: Conversation) -> str:
    key = [conversation.priority, conversation.sla_due_at.isoformat(),
           conversation.created_at.isoformat(), conversation.id]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        priority, due, created, last_id = json.loads(raw)
        return int(priority), datetime.fromisoformat(due), datetime.fromisoformat(created), int(last_id)
    except (ValueError, TypeError, json.JSONDecodeError):
        raise ValidationError("cursor: not a cursor this API returned", code="invalid_cursor")
