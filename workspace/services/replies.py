"""Replies and internal notes: stored, then replies handed to the channel's delivery job."""

from rq import Retry

from macros.limits import DEFAULT_REPLY_LIMIT as MAX_REPLY_CHARS  # one maximum, also what macros check against

from ..broker import job_queue
from ..errors import ValidationError
from ..extensions import db
from ..models import Agent, Conversation, Message, utcnow
from . import sla
from .conversations import commit_change

DELIVER_JOB = "workspace.delivery.deliver_reply"
DELIVER_MANY_JOB = "workspace.delivery.deliver_replies"
# Backoff between delivery attempts: a minute, then longer, up to an hour.
DELIVERY_RETRY = Retry(max=6, interval=[10, 30, 60, 300, 900, 3600])
# RQ stops a delivery attempt after this; senders' own HTTP timeouts are shorter.
DELIVERY_JOB_TIMEOUT = 60


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
    message = store_reply(conversation, text, agent)
    db.session.flush()
    commit_change(conversation, agent, "conversation.reply", {}, {"message_id": message.id})
    enqueue_delivery(message.id)
    return message


def add_note(conversation: Conversation, text, agent: Agent) -> Message:
    """Store an internal note on the conversation (never sent to the customer)."""
    message = store_note(conversation, text, agent)
    db.session.flush()
    commit_change(conversation, agent, "conversation.note", {}, {"message_id": message.id})
    return message


def store_reply(conversation: Conversation, text, agent: Agent) -> Message:
    """Add a reply to the session, unflushed (bulk replies flush together); the caller commits, then enqueues."""
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
    return message


def store_note(conversation: Conversation, text, agent: Agent) -> Message:
    """Add an internal note to the session, unflushed."""
    now = utcnow()
    message = Message(conversation_id=conversation.id, channel_id=conversation.channel_id, agent_id=agent.id,
                      direction="note", text=_text(text), created_at=now, received_at=now)
    db.session.add(message)
    return message


def enqueue_delivery(message_id: int) -> None:
    """Queue one delivery job per reply (its id is the message's, so it is queued once)."""
    _enqueue(DELIVER_JOB, message_id, f"deliver-{message_id}", DELIVERY_JOB_TIMEOUT)


def enqueue_deliveries(message_ids: list[int]) -> None:
    """Queue one delivery job for many replies (a bulk batch): one job, not one Redis round-trip per reply."""
    if message_ids:
        _enqueue(DELIVER_MANY_JOB, message_ids, f"deliver-{message_ids[0]}-{message_ids[-1]}",
                 DELIVERY_JOB_TIMEOUT * len(message_ids))


def _enqueue(job: str, argument, job_id: str, timeout: int) -> None:
    """Enqueue a delivery job; if Redis is down the replies stay 'queued' and the sweeper sends them later."""
    try:
        job_queue().enqueue_call(job, args=(argument,), job_id=job_id, timeout=timeout, retry=DELIVERY_RETRY,
                                 failure_ttl=30 * 86400)
    except Exception:  # noqa: BLE001 - the sweeper retries; the replies are already stored
        db.session.rollback()
