"""Reading threads in batches: each conversation's newest inbound post, message texts and storing times by id."""

from datetime import datetime

import sqlalchemy as sa

from workspace.extensions import db
from workspace.models import Message


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
