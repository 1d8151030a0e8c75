"""A conversation an agent starts by writing a new email, delivered as every reply is."""

import uuid

import sqlalchemy as sa

from workspace.channels.email import drafts
from workspace.channels.email.parsing import one_line
from workspace.errors import NotFound, ValidationError
from workspace.extensions import db
from workspace.live import signals
from workspace.live.changes import Changes
from workspace.models import Agent, Author, Channel, Conversation, Queue, utcnow
from workspace.services.conversations import email
from workspace.services.conversations.actions import commit_change
from workspace.services.conversations.queues import visible_queue_ids
from workspace.services.conversations.replies import store_reply

MAX_SUBJECT = 400


def email_channel_slugs() -> list[str]:
    """The enabled email channels a new mail can be sent from, by slug."""
    return list(db.session.scalars(sa.select(Channel.slug).where(
        Channel.kind == "email", Channel.enabled.is_(True)).order_by(Channel.slug)))


def start_conversation(fields: dict, agent: Agent) -> Conversation:
    """Start a conversation by sending a new email: channel and queue (slugs), to, cc, bcc, subject, text, files.

    The conversation waits on the customer (pending) in the chosen queue, assigned to the agent; its first
    message is the mail. The customer's answer joins it by our Message-ID or reply+token address.
    """
    queue = db.session.scalar(sa.select(Queue).where(Queue.slug == fields.get("queue")))
    if queue is None or (agent.role == "agent" and queue.id not in visible_queue_ids(agent)):
        raise NotFound(f"queue: no queue named {fields.get('queue')!r} that you work")
    channel = db.session.scalar(sa.select(Channel).where(Channel.slug == fields.get("channel")))
    if channel is None:
        raise NotFound(f"channel: no channel named {fields.get('channel')!r}")
    email.require_email(channel)
    (to,) = drafts.addresses([fields.get("to")], "to", required=True)
    cc = drafts.addresses(fields.get("cc"), "cc")
    bcc = drafts.addresses(fields.get("bcc"), "bcc")
    files = drafts.files(fields.get("attachments"))
    subject = one_line(fields.get("subject") or "")[:MAX_SUBJECT]
    if not subject:
        raise ValidationError("subject: must not be empty", code="invalid_field")
    email.check_text(fields.get("text"), "text")
    author = db.session.scalar(sa.select(Author).where(Author.channel_id == channel.id, Author.external_id == to))
    if author is None:
        author = Author(channel_id=channel.id, external_id=to, handle=to, name="", email=to)
        db.session.add(author)
    now = utcnow()
    # Its own thread key: the customer's answer finds it through our Message-ID, never by subject.
    conversation = Conversation(channel=channel, author=author, queue=queue, status="pending", subject=subject,
                                thread_key=f"sb.new.{uuid.uuid4().hex}", tags=[], created_at=now, updated_at=now,
                                last_message_at=now, routed_at=now)
    db.session.add(conversation)
    db.session.flush()
    message = store_reply(conversation, fields["text"], agent, email_fields={})
    email.attach(message, email.draft_for(conversation, "new", to=[to], cc=cc, bcc=bcc, files=files))
    db.session.flush()
    changes = Changes()
    changes.add(conversation, "created")
    changes.request(signals.replies_queued, message.id)
    commit_change(conversation, agent, "conversation.compose", {},
                  {"message_id": message.id, "to": to, "queue": queue.slug}, changes=changes)
    return conversation
