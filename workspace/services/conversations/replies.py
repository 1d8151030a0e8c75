"""Replies and internal notes: stored, then replies handed to the channel's delivery job.

A reply on an email channel also keeps its mail's Cc, Bcc, files and the queue's
signature (services.conversations.email), whoever wrote it: an agent, a macro or a bulk reply.
"""

from workspace.channels.registry import reply_fits
from workspace.errors import ValidationError
from workspace.extensions import db
from workspace.live import signals
from workspace.live.changes import Changes
from workspace.models import Agent, Conversation, Message, utcnow
from workspace.services.conversations import email
from workspace.services.conversations.actions import commit_change
from workspace.services.service_levels import clocks

# RQ stops a delivery attempt after this; senders' own HTTP timeouts are shorter.
DELIVERY_JOB_TIMEOUT = 60


def _text(text) -> str:
    return email.check_text(text, "text")


def reply(conversation: Conversation, text, agent: Agent, *, email_fields: dict | None = None) -> Message:
    """Store a reply to the customer and queue its delivery; the customer is no longer waiting.

    A reply also assigns an unassigned conversation to whoever answered, as
    Zendesk does. Delivery runs as a job with retries; its state shows on the message.
    `email_fields` (cc, bcc, attachments) are for email conversations only.
    """
    message = store_reply(conversation, text, agent, email_fields=email_fields)
    db.session.flush()
    changes = Changes()
    changes.request(signals.replies_queued, message.id)
    commit_change(conversation, agent, "conversation.reply", {}, {"message_id": message.id}, changes=changes)
    return message


def add_note(conversation: Conversation, text, agent: Agent) -> Message:
    """Store an internal note on the conversation (never sent to the customer)."""
    message = store_note(conversation, text, agent)
    db.session.flush()
    changes = Changes()
    changes.request(signals.notes_added, message.id)  # its @mentions are told
    commit_change(conversation, agent, "conversation.note", {}, {"message_id": message.id}, changes=changes)
    return message


def store_reply(conversation: Conversation, text, agent: Agent, *, email_fields: dict | None = None) -> Message:
    """Add a reply to the session, unflushed (bulk replies flush together); the caller commits, then enqueues."""
    text = _text(text)
    if conversation.channel.kind == "email":
        draft = email.reply_draft(conversation, email_fields)
    elif email_fields:
        raise ValidationError("cc, bcc and attachments are for email conversations only", code="not_email")
    too_long = reply_fits(text, conversation.channel.kind)  # X: 280, every link 23
    if too_long:
        raise ValidationError(f"text: {too_long}", code="reply_too_long")
    now = utcnow()
    message = Message(conversation_id=conversation.id, channel_id=conversation.channel_id, agent_id=agent.id,
                      direction="outbound", text=text, subject=conversation.subject,
                      delivery_status="queued", created_at=now, received_at=now)
    db.session.add(message)
    if conversation.channel.kind == "email":
        email.attach(message, draft)
    conversation.first_reply_at = conversation.first_reply_at or now
    conversation.waiting_since = None
    clocks.sync(conversation, now)
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
