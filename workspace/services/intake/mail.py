"""Storing one received email: the post, its attachments and any bounce, in one transaction.

The SMTP listener, the IMAP poller and the inbound-parse webhook all hand raw
messages here. A message is acknowledged only after this commits; a message
stored before (same Message-ID on the channel) changes nothing. A sender past
the flood limit has their mail suspended (kept whole, out of the queues) for
an admin to look at, instead of opening conversation after conversation.
"""

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from workspace.channels import email
from workspace.channels.email.parsing import Mail, parse_message
from workspace.channels.post import InboundPost
from workspace.errors import SwitchboardError
from workspace.extensions import db
from workspace.models import Author, Channel, EmailAttachment, EmailSuppression, Message, SuspendedEmail, utcnow
from workspace.services.intake.group_commit import GroupCommitter
from workspace.services.intake.store import ATTEMPTS, stage_posts

MESSAGES, AUTHORS, CHANNELS = Message.__table__, Author.__table__, Channel.__table__
RECENT_FROM = sa.select(sa.func.count()).select_from(
    MESSAGES.join(AUTHORS, MESSAGES.c.author_id == AUTHORS.c.id)).where(
    AUTHORS.c.channel_id == sa.bindparam("channel_id"), AUTHORS.c.external_id == sa.bindparam("sender"),
    MESSAGES.c.received_at >= sa.bindparam("since", type_=MESSAGES.c.received_at.type))


class MessageTooLarge(SwitchboardError):
    """The message is over EMAIL_MAX_BYTES."""

    status = 413


@dataclass(frozen=True, slots=True)
class MailOutcome:
    """What became of one received message: stored, duplicate or suspended."""

    status: str
    message_key: str
    conversation_id: int | None = None
    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class ReadMail:
    """A received message read for one channel and ready to store."""

    channel: object
    mail: Mail
    post: InboundPost
    raw: bytes


def read_mail(channel, raw: bytes, envelope: list[str] | tuple = ()) -> ReadMail:
    """Parse a raw message received on an email channel (its SMTP envelope recipients, if any).

    Raises MessageTooLarge past EMAIL_MAX_BYTES and ValidationError for a message that cannot be read.
    """
    limit = current_app.config["EMAIL_MAX_BYTES"]
    if len(raw) > limit:
        raise MessageTooLarge(f"the message is over {limit} bytes", code="message_too_large")
    mail = parse_message(raw)
    return ReadMail(channel, mail, email.post_for(channel, mail, list(envelope)), raw)


def receive_mail(channel, raw: bytes, envelope: list[str] | tuple = (), *, flood_check: bool = True) -> MailOutcome:
    """Store one raw message received on an email channel; committed before this returns.

    Args:
        channel: the channel row (id, slug, kind, secret, settings).
        raw: the message as received.
        envelope: its SMTP envelope recipients, when it came over SMTP.
        flood_check: False when an admin releases suspended mail (it is stored whatever the sender's rate).

    Returns:
        The outcome; raises ValidationError for a message that cannot be read and
        MessageTooLarge past the limit, having stored nothing.
    """
    (outcome,) = store_mail([read_mail(channel, raw, envelope)], flood_check=flood_check)
    return outcome


def store_mail(messages: list[ReadMail], *, flood_check: bool = True) -> list[MailOutcome]:
    """Store read messages in one transaction, committed before this returns (all or none of them).

    A message stored before (its Message-ID on its channel, in this call too) is a duplicate.
    """
    for attempt in range(ATTEMPTS):
        try:
            outcomes = [_stage(message, flood_check) for message in messages]
            db.session.commit()
            return outcomes
        except IntegrityError:
            db.session.rollback()
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


class MailCommitter(GroupCommitter):
    """Commits the mail of concurrent SMTP sessions together: each work is one envelope's read messages
    (one per channel it is addressed to), answered with their outcomes only once committed."""

    def weight(self, work: list[ReadMail]) -> int:
        """An envelope weighs its messages."""
        return len(work)

    def store_alone(self, work: list[ReadMail]) -> list[MailOutcome]:
        """Store one envelope's messages in their own transaction."""
        return store_mail(work)

    def stage_group(self, works: list[list[ReadMail]]) -> list[list[MailOutcome]]:
        """Stage every envelope's messages in the current transaction (an IntegrityError fails the group,
        whose envelopes are then stored one by one)."""
        return [[_stage(message, True) for message in work] for work in works]


def _stage(message: ReadMail, flood_check: bool) -> MailOutcome:
    channel, mail, post, raw = message.channel, message.mail, message.post, message.raw
    run = db.session.connection().execute
    if flood_check and not post.raw["email"]["bounced"] and _flooding(channel, post.author.external_id):
        known = run(sa.select(SuspendedEmail.id).where(SuspendedEmail.channel_id == channel.id,
                                                        SuspendedEmail.message_key == post.external_id)).first()
        if known is None:
            db.session.add(SuspendedEmail(
                channel_id=channel.id, message_key=post.external_id, sender=post.author.external_id,
                subject=post.subject, raw=raw, reason=f"more than {current_app.config['EMAIL_FLOOD_MESSAGES']} "
                f"messages in {current_app.config['EMAIL_FLOOD_SECONDS']} s from this sender"))
            db.session.flush()
        return MailOutcome("suspended", post.external_id)
    (outcome,) = stage_posts(channel.id, [post], current_app.config["THREAD_WINDOW_SECONDS"])
    if outcome.status == "stored":
        db.session.add_all(EmailAttachment(
            message_id=outcome.message_id, filename=a.filename, declared_type=a.declared_type,
            content_type=a.sniffed_type, size=a.size, content_id=a.content_id, inline=a.inline, data=a.data)
            for a in mail.attachments)
        for address in post.raw["email"]["bounced"]:
            _suppress(channel.id, address, f"bounced: {mail.subject[:200]}")
        db.session.flush()
    return MailOutcome(outcome.status, post.external_id, outcome.conversation_id, outcome.message_id)


def _flooding(channel, sender: str) -> bool:
    """Whether the sender has already sent the flood limit of messages within the flood window."""
    since = utcnow() - timedelta(seconds=current_app.config["EMAIL_FLOOD_SECONDS"])
    count = db.session.connection().execute(RECENT_FROM, {"channel_id": channel.id, "sender": sender,
                                                          "since": since}).scalar()
    return count >= current_app.config["EMAIL_FLOOD_MESSAGES"]


def _suppress(channel_id: int, address: str, reason: str) -> None:
    exists = db.session.scalar(sa.select(EmailSuppression.id).where(
        EmailSuppression.channel_id == channel_id, EmailSuppression.address == address))
    if exists is None:
        db.session.add(EmailSuppression(channel_id=channel_id, address=address, reason=reason))


EMAIL_CHANNELS = sa.select(CHANNELS.c.id, CHANNELS.c.slug, CHANNELS.c.kind, CHANNELS.c.secret, CHANNELS.c.enabled,
                           CHANNELS.c.settings).where(CHANNELS.c.kind == "email", CHANNELS.c.enabled.is_(True))


def channel_for_address(address: str):
    """The enabled email channel mail to this address belongs to, or None.

    Its own address, the same with a +tag (replies), or any other mailbox on
    its domain (billing@, sales@: routing rules tell them apart by recipient).
    """
    address = address.strip().strip("<>").lower()
    local, _, domain = address.rpartition("@")
    channels = db.session.connection().execute(EMAIL_CHANNELS).all()
    db.session.close()
    on_domain = None
    for channel in channels:
        own = str((channel.settings or {}).get("address") or "").lower()
        own_local, _, own_domain = own.rpartition("@")
        if own_domain != domain:
            continue
        if local.partition("+")[0] == own_local:
            return channel
        on_domain = on_domain or channel
    return on_domain
