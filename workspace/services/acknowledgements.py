"""Acknowledgements: a channel's automatic first reply to each new conversation, in or out of business hours.

Off unless an admin turns it on for a channel. Routing sends it when it first
places a conversation (a claimed, once-only step, so a customer who posts twice
hears it once), through the same delivery job as an agent's reply. The text
depends on whether the team works now by the conversation's queue calendar
(its SLA policy's business hours; without one the team always works). Never
sent to the brand's own people (an author tagged `employee`, an X channel's own
account) nor to mail a machine sent (auto-replies, lists, bounces: RFC 3834).
It is not an agent's reply: the SLA clocks and the first-reply time ignore it.
"""

from datetime import datetime

import sqlalchemy as sa

from sla import is_open
from workspace.channels.registry import DEFAULT_REPLY_LIMIT as MAX_REPLY_CHARS
from workspace.channels.registry import reply_fits
from workspace.errors import ValidationError
from workspace.extensions import db
from workspace.live import signals
from workspace.live.changes import Changes
from workspace.models import Channel, Conversation, Message
from workspace.services.service_levels import clocks

# What marks the message (Message.automatic) and names it in the thread.
AUTOMATIC = "acknowledgement"
# Author tags that mark the brand's own people: their posts are never acknowledged.
OWN_TAGS = frozenset({"employee"})
FIELDS = ("enabled", "in_hours", "out_of_hours")


def parse_settings(kind: str, data) -> dict | None:
    """Check an admin's acknowledgement settings for a channel of this kind (None turns them off).

    Args:
        kind: the channel's kind (the reply must fit it: X counts 280 characters).
        data: {"enabled": bool, "in_hours": text, "out_of_hours": text or empty (the in-hours text then)}.

    Returns:
        The settings to store, or None.
    """
    if data is None:
        return None
    if not isinstance(data, dict) or set(data) - set(FIELDS):
        raise ValidationError(f"acknowledgement: an object with {', '.join(FIELDS)}, or null", code="invalid_field")
    enabled = data.get("enabled", False)
    if not isinstance(enabled, bool):
        raise ValidationError("acknowledgement.enabled: true or false", code="invalid_field")
    texts = {}
    for name in ("in_hours", "out_of_hours"):
        value = data.get(name) or ""
        if not isinstance(value, str) or len(value) > MAX_REPLY_CHARS or "\x00" in value:
            raise ValidationError(f"acknowledgement.{name}: text of at most {MAX_REPLY_CHARS} characters",
                                  code="invalid_field")
        too_long = value.strip() and reply_fits(value, kind)
        if too_long:
            raise ValidationError(f"acknowledgement.{name}: {too_long}", code="reply_too_long")
        texts[name] = value.strip()
    if enabled and not texts["in_hours"]:
        raise ValidationError("acknowledgement.in_hours: the reply to send (required when enabled)",
                              code="invalid_field")
    return {"enabled": enabled, **texts}


def text_for(settings: dict | None, working: bool) -> str | None:
    """The reply a channel with these settings sends now (in hours or not), or None when it sends none."""
    if not settings or not settings.get("enabled"):
        return None
    return (settings.get("in_hours") if working else settings.get("out_of_hours") or settings.get("in_hours")) or None


def is_own(conversation: Conversation) -> bool:
    """Whether the conversation's author is the brand itself (its people or its own account)."""
    author, channel = conversation.author, conversation.channel
    if OWN_TAGS & set(author.tags or ()):
        return True
    account = (channel.settings or {}).get("user_id")
    return bool(account) and author.external_id == str(account)


def acknowledge(conversations: list[Conversation], latest: dict[int, int], now: datetime,
                policies: "clocks.Policies", changes: Changes) -> list[Message]:
    """Add the first reply to each newly routed conversation whose channel sends one, in the caller's
    transaction, and ask for its delivery after the commit.

    Args:
        conversations: conversations routing has just placed for the first time (not spam).
        latest: each one's newest inbound message id (an automatic mail among them gets no reply).
        now: the moment routing works at, which decides in or out of hours.
        policies: the batch's SLA policies (the queues' calendars).
        changes: the routing transaction's effects.

    Returns:
        The stored replies.
    """
    wanted = [c for c in conversations if text_for(c.channel.acknowledgement, True) and not is_own(c)]
    automatic = _automatic_mail([latest[c.id] for c in wanted if c.channel.kind == "email"])
    replies = []
    for conversation in wanted:
        if latest[conversation.id] in automatic:
            continue
        working = is_open(now, policies.for_conversation(conversation).calendar)
        replies.append(Message(
            conversation_id=conversation.id, channel_id=conversation.channel_id, direction="outbound",
            text=text_for(conversation.channel.acknowledgement, working), subject=conversation.subject,
            automatic=AUTOMATIC, delivery_status="queued", created_at=now, received_at=now))
    if replies:
        db.session.add_all(replies)
        db.session.flush()
        changes.request(signals.replies_queued, *(reply.id for reply in replies))
    return replies


def _automatic_mail(message_ids: list[int]) -> set[int]:
    """The ids among these received mails that a machine sent (marked when the mail was read)."""
    if not message_ids:
        return set()
    rows = db.session.execute(sa.select(Message.id, Message.raw).where(Message.id.in_(message_ids))).all()
    return {message_id for message_id, raw in rows if ((raw or {}).get("email") or {}).get("automatic")}


def describe(channel: Channel) -> dict:
    """A channel's acknowledgement settings as the admin API shows them (off by default)."""
    settings = channel.acknowledgement or {}
    return {"enabled": bool(settings.get("enabled")), "in_hours": settings.get("in_hours") or "",
            "out_of_hours": settings.get("out_of_hours") or ""}
