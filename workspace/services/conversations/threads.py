"""Reading threads: a page of one conversation's messages; in batches, each conversation's newest inbound post,
message texts and storing times by id."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models import Message


def thread_page(conversation_id: int, *, limit: int, before: int | None = None) -> tuple[list[Message], int | None]:
    """A page of a conversation's messages: the newest `limit` (older than message `before`, when given).

    Read newest first by the (conversation_id, id) index, so a thread of
    thousands of messages costs what a short one does.

    Args:
        conversation_id: the conversation.
        limit: how many messages at most.
        before: a message id from an earlier page's `earlier` cursor.

    Returns:
        (the messages, oldest first; the cursor to the messages before them, or None at the thread's start)
    """
    query = sa.select(Message).options(so.joinedload(Message.agent)).where(Message.conversation_id == conversation_id)
    if before is not None:
        query = query.where(Message.id < before)
    rows = db.session.scalars(query.order_by(Message.id.desc()).limit(limit + 1)).all()
    page = list(reversed(rows[:limit]))
    return page, page[0].id if len(rows) > limit else None


def latest_inbound(conversation_ids: list[int]) -> dict[int, int]:
    """Return each conversation's newest inbound message id."""
    return dict(db.session.execute(
        sa.select(Message.conversation_id, sa.func.max(Message.id))
        .where(Message.conversation_id.in_(conversation_ids), Message.direction == "inbound")
        .group_by(Message.conversation_id)
    ).all())


def stored_times(message_ids: list[int]) -> dict[int, datetime]:
    """Return when each message was stored, by id."""
    return dict(db.session.execute(sa.select(Message.id, Message.created_at).where(Message.id.in_(message_ids))).all())


def message_texts(message_ids: list[int]) -> dict[int, str]:
    """Return message texts by id."""
    return dict(db.session.execute(sa.select(Message.id, Message.text).where(Message.id.in_(message_ids))).all())


def mail_recipients(message_ids: list[int]) -> dict[int, frozenset[str]]:
    """Return the mailboxes each received email was sent to (empty for messages that are not email), by id."""
    if not message_ids:
        return {}
    rows = db.session.execute(sa.select(Message.id, Message.raw).where(Message.id.in_(message_ids))).all()
    return {message_id: frozenset(((raw or {}).get("email") or {}).get("mailboxes") or ())
            for message_id, raw in rows}
