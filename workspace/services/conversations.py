"""Changing conversations on an agent's behalf: audited, announced, and learned from."""

from datetime import timedelta

import sqlalchemy as sa

from routing import Post
from routing.classifier import model_text

from ..errors import ValidationError
from ..extensions import db
from ..models import Agent, Conversation, Correction, Message, Priority, Queue, utcnow
from . import audit, events
from .classifier import corrections_added
from .routing import sla_minutes


def move_conversation(conversation: Conversation, queue_slug, agent: Agent) -> Conversation:
    """Move a conversation to another queue.

    When routing had placed it, the move is a labelled example for the
    classifier (a Correction), and enough of them trigger a retrain.

    Args:
        conversation: the conversation to move.
        queue_slug: the destination queue's slug.
        agent: who moves it.

    Returns:
        The conversation, committed.
    """
    if not isinstance(queue_slug, str):
        raise ValidationError("queue: must be a queue slug", code="invalid_field")
    queue = db.session.scalar(sa.select(Queue).where(Queue.slug == queue_slug))
    if queue is None:
        raise ValidationError(f"queue: no queue named {queue_slug!r}", code="invalid_field")
    if conversation.status == "new":
        raise ValidationError("queue: the conversation is still being routed; try again in a moment",
                              code="not_routed")
    old_queue_id = conversation.queue_id
    if queue.id == old_queue_id:
        return conversation
    old_slug = conversation.queue.slug if conversation.queue else None
    conversation.queue = queue
    conversation.updated_at = utcnow()
    waiting_since = conversation.waiting_since or conversation.last_message_at
    conversation.sla_due_at = waiting_since + timedelta(minutes=sla_minutes(queue, Priority(conversation.priority)))
    learned = conversation.routed_at is not None
    if learned:
        db.session.add(Correction(conversation_id=conversation.id, from_queue_id=old_queue_id, to_queue_id=queue.id,
                                  agent_id=agent.id, text=_model_input(conversation)))
    audit.record(agent, "conversation.move", "conversation", conversation.id,
                 before={"queue": old_slug}, after={"queue": queue.slug})
    db.session.flush()
    changes = events.Changes()
    changes.add(conversation, "updated", old_queue_id=old_queue_id)
    db.session.commit()
    changes.publish()
    if learned:
        corrections_added()
    return conversation


def _model_input(conversation: Conversation) -> str:
    """What the classifier saw of this conversation: subject, first inbound post, channel."""
    text = db.session.scalar(
        sa.select(Message.text).where(Message.conversation_id == conversation.id, Message.direction == "inbound")
        .order_by(Message.id).limit(1)
    ) or ""
    return model_text(Post(text=text, subject=conversation.subject, channel=conversation.channel.slug))
