"""Email replies, forwards and new outbound mail: who it goes to, the queue's signature and the files, kept on
the message so every delivery attempt sends the same mail.

A reply copies (Cc) whoever the customer's latest mail copied, unless the agent
changed the list; Bcc is kept for the envelope only. A forward goes to a third
party with the agent's note and the thread below it, and is recorded in the
thread; it does not change who the customer is, so their answers come back
to this conversation (threaded by our Message-ID or reply+token address) as
that third party's posts and our replies still go to the customer. A new
outbound mail starts a conversation on an email channel, in a queue the agent
chose, and goes out through the same delivery job as every reply.
"""

from dataclasses import dataclass, field

import sqlalchemy as sa

from workspace.channels.email import drafts
from workspace.channels.email.addresses import channel_address
from workspace.channels.email.content import Attachment
from workspace.channels.email.parsing import one_line
from workspace.channels.registry import DEFAULT_REPLY_LIMIT as MAX_REPLY_CHARS  # the one maximum
from workspace.errors import NotFound, ValidationError
from workspace.extensions import db
from workspace.live import signals
from workspace.live.changes import Changes
from workspace.models import Agent, Channel, Conversation, EmailAttachment, Message, utcnow
from workspace.services.conversations.actions import commit_change

# Messages a forward of a whole conversation carries (the newest ones).
MAX_FORWARDED = 50


@dataclass(slots=True)
class Draft:
    """The email part of an outbound message: its `raw["email"]` and the files to store beside it."""

    details: dict
    files: list[Attachment] = field(default_factory=list)


def reply_draft(conversation: Conversation, fields: dict | None = None) -> Draft:
    """The email part of a reply (from the API, a macro or a bulk reply): Cc, Bcc, files and the signature.

    Args:
        conversation: an email conversation.
        fields: what the agent gave: `cc` (absent: those the customer's latest mail copied), `bcc`, `attachments`.

    Returns:
        The draft to store with the reply.
    """
    fields = fields or {}
    customer = conversation.author.external_id
    if "cc" in fields:
        cc = drafts.addresses(fields["cc"], "cc")
    else:
        cc = _copied_by_customer(conversation)
    bcc = drafts.addresses(fields.get("bcc"), "bcc")
    return draft_for(conversation, "reply", to=[customer], cc=[a for a in cc if a != customer.lower()], bcc=bcc,
                  files=drafts.files(fields.get("attachments")))


def attach(message: Message, draft: Draft) -> None:
    """Keep the draft on an outbound message (flushed or not): its details, and its files as its attachments."""
    message.raw = {"email": draft.details}
    message.attachments.extend(EmailAttachment(filename=a.filename, declared_type=a.declared_type,
                                               content_type=a.sniffed_type, size=a.size, data=a.data)
                               for a in draft.files)


def check_text(text, name: str) -> str:
    """A reply's or note's text: not blank, at most the one maximum, no NUL (ValidationError otherwise)."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationError(f"{name}: must not be empty", code="invalid_field")
    if len(text) > MAX_REPLY_CHARS or "\x00" in text:
        raise ValidationError(f"{name}: at most {MAX_REPLY_CHARS} characters, no NUL", code="invalid_field")
    return text


def forward(conversation: Conversation, fields: dict, agent: Agent) -> Message:
    """Forward the conversation (or one message of it) to a third party with an optional note.

    Args:
        conversation: an email conversation the agent can see.
        fields: `to` (required), `cc`, `note`, `message_id` (one message instead of the whole thread).
        agent: who forwards it.

    Returns:
        The stored forward (an outbound message, queued for delivery like a reply).
    """
    require_email(conversation.channel)
    to = drafts.addresses(fields.get("to"), "to", required=True)
    cc = drafts.addresses(fields.get("cc"), "cc")
    note = fields.get("note") or ""
    if note:
        check_text(note, "note")
    forwarded = _forwarded_ids(conversation, fields.get("message_id"))
    draft = draft_for(conversation, "forward", to=to, cc=cc, bcc=[], files=[])
    draft.details["forwarded"] = forwarded
    now = utcnow()
    message = Message(conversation_id=conversation.id, channel_id=conversation.channel_id, agent_id=agent.id,
                      direction="outbound", text=note or f"Forwarded to {', '.join(to)}",
                      subject=conversation.subject, delivery_status="queued", created_at=now, received_at=now)
    db.session.add(message)
    db.session.flush()
    attach(message, draft)
    changes = Changes()
    changes.request(signals.replies_queued, message.id)
    commit_change(conversation, agent, "conversation.forward", {},
                  {"message_id": message.id, "to": to, "cc": cc, "forwarded": len(forwarded)}, changes=changes)
    return message


def draft_for(conversation: Conversation, kind: str, *, to: list[str], cc: list[str], bcc: list[str],
              files: list[Attachment]) -> Draft:
    """A draft of this kind ("reply", "forward", "new") from checked addresses and files."""
    channel = conversation.channel
    queue = conversation.queue
    # Nobody is sent the same mail twice, and our own mailbox is never a recipient.
    ours = channel_address(channel)
    cc = [a for a in cc if a not in to and a != ours]
    bcc = [a for a in bcc if a not in to and a not in cc and a != ours]
    details = {
        "kind": kind, "from": {"address": ours, "name": one_line(channel.name)[:100]},
        "to": [{"address": a, "name": ""} for a in to], "cc": [{"address": a, "name": ""} for a in cc],
        "bcc": [{"address": a, "name": ""} for a in bcc],
        "signature": (queue.signature if queue is not None and kind != "forward" else "") or "",
        "attachments": [a.as_dict() for a in files],
    }
    return Draft(details, files)


def _copied_by_customer(conversation: Conversation) -> list[str]:
    """Whom the customer's latest mail copied besides us: a reply copies them too (reply-all)."""
    raw = db.session.scalar(sa.select(Message.raw).where(
        Message.conversation_id == conversation.id, Message.direction == "inbound").order_by(
        Message.id.desc()).limit(1))
    return list(((raw or {}).get("email") or {}).get("copies") or [])


def _forwarded_ids(conversation: Conversation, message_id) -> list[int]:
    """The messages a forward carries: the one asked for, or the thread's newest (notes never)."""
    query = sa.select(Message.id).where(Message.conversation_id == conversation.id,
                                        Message.direction != "note", Message.hidden_at.is_(None))
    if message_id is not None:
        found = db.session.scalar(query.where(Message.id == message_id)) if isinstance(message_id, int) else None
        if found is None:
            raise NotFound(f"message_id: no message {message_id} in this conversation")
        return [found]
    return sorted(db.session.scalars(query.order_by(Message.id.desc()).limit(MAX_FORWARDED)))


def require_email(channel: Channel) -> None:
    """Refuse (400 not_email) a channel that is not an email channel."""
    if channel.kind != "email":
        raise ValidationError("only email conversations can be forwarded or started by mail", code="not_email")
