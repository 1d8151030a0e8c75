"""Replies and internal notes: stored, then replies handed to the channel's delivery job."""

from rq import Retry

from ..broker import job_queue
from ..errors import ValidationError
from ..extensions import db
from ..models import Agent, Conversation, Message, utcnow
from . import sla
from .conversations import commit_change

MAX_REPLY_CHARS = 20_000
DELIVER_JOB = "workspace.delivery.deliver_reply"
# Backoff between delivery attempts: a minute, then longer, up to an hour.
DELIVERY_RETRY = Retry(max=6, interval=[10, 30, 60, 300, 900, 3600])


def _text(text) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("text: must not be empty", code="invalid_field")
    if len(text) > MAX_REPLY_CHARS or "\x00" in text:
        raise ValidationError(f"text: at most {MAX_REPLY_CHARS} characters, no NUL", code="invalid_field")
    return text


def reply(conversation: Conversation, text, agent: Agent) -> Message:
    """Store a reply to the customer and queue its delivery; the customer is no longer waiting.

    A reply also assigns an unassigned conversation to whoever answered, as
    Zendesk does. Delivery runs as a job with retries; its state shows on the message.
    """
    now = utcnow()
    message = Message(conversation_id=conversation.id, channel_id=conversation.channel_id, agent_id=agent.id,
                      direction="outbound", text=_text(text), subject=conversation.subject,
                      delivery_status="queued", created_at=now, received_at=now)
    db.session.add(message)
    conversation.first_reply_at = conversation.first_reply_at or now
    conversation.waiting_since = None
    sla.sync(conversation, now)
    if conversation.assignee_id is None:
        conversation.assignee_id, conversation.assigned_at = agent.id, now
    db.session.flush()
    commit_change(conversation, agent, "conversation.reply", {}, {"message_id": message.id})
    enqueue_delivery(message.id)
    return message


def add_note(conversation: Conversation, text, agent: Agent) -> Message:
    """Store an internal note on the conversation (never sent to the customer)."""
    now = utcnow()
    message = Message(conversation_id=conversation.id, channel_id=conversation.channel_id, agent_id=agent.id,
                      direction="note", text=_text(text), created_at=now, received_at=now)
    db.session.add(message)
    db.session.flush()
    commit_change(conversation, agent, "conversation.note", {}, {"message_id": message.id})
    return message


def enqueue_delivery(message_id: int) -> None:
    """Queue one delivery job per reply (its id is the message's, so it is queued once).

    If Redis is down the reply stays 'queued' and the sweeper sends it later.
    """
    try:
        job_queue().enqueue_call(DELIVER_JOB, args=(message_id,), job_id=f"deliver-{message_id}", timeout=60,
                                 retry=DELIVERY_RETRY, failure_ttl=30 * 86400)
    except Exception:  # noqa: BLE001 - the sweeper retries; the agent's reply is already stored
        db.session.rollback()
