"""Storing one received email: the post, its attachments and any bounce, in one transaction.

The IMAP poller and the inbound-parse webhook hand raw messages here and
acknowledge them only after this commits; mail from the SMTP listener is
spooled raw first and comes here through a worker (services.intake.spool),
groups of it staged in one transaction by `stage_mail`. A message stored
before (same Message-ID on the channel) changes nothing. A sender past
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
from workspace.services.intake.store import ATTEMPTS, Outcome, stage_posts

MESSAGES, AUTHORS, CHANNELS = Message.__table__, Author.__table__, Channel.__table__
# Each sender's messages on a channel received since a moment (the flood check), for many senders at once.
RECENT_FROM = sa.select(AUTHORS.c.external_id, sa.func.count()).select_from(
    MESSAGES.join(AUTHORS, MESSAGES.c.author_id == AUTHORS.c.id)).where(
    AUTHORS.c.channel_id == sa.bindparam("channel_id"),
    AUTHORS.c.external_id.in_(sa.bindparam("senders", expanding=True)),
    MESSAGES.c.received_at >= sa.bindparam("since", type_=MESSAGES.c.received_at.type)).group_by(AUTHORS.c.external_id)


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
            outcomes = stage_mail(messages, flood_check)
            db.session.commit()
            return outcomes
        except IntegrityError:
            db.session.rollback()
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def stage_mail(messages: list[ReadMail], flood_check: bool) -> list[MailOutcome]:
    """Write read messages into the current transaction without committing; one outcome each, in order.

    A group costs the same handful of statements whatever its size: one flood count
    for all its senders, one stage_posts per channel (as a webhook delivery), then
    the stored messages' attachments and bounces.
    """
    suspended = _suspend_floods(messages) if flood_check else set()
    by_channel: dict[int, list[int]] = {}  # the indexes of each channel's messages
    for index, message in enumerate(messages):
        if index not in suspended:
            by_channel.setdefault(message.channel.id, []).append(index)
    staged: dict[int, Outcome] = {}  # by the message's index
    for channel_id, group in by_channel.items():
        outcomes = stage_posts(channel_id, [messages[index].post for index in group],
                               current_app.config["THREAD_WINDOW_SECONDS"])
        staged.update(zip(group, outcomes, strict=True))
    results = []
    for index, message in enumerate(messages):
        if index in suspended:
            results.append(MailOutcome("suspended", message.post.external_id))
            continue
        outcome = staged[index]
        if outcome.status == "stored":
            db.session.add_all(EmailAttachment(
                message_id=outcome.message_id, filename=a.filename, declared_type=a.declared_type,
                content_type=a.sniffed_type, size=a.size, content_id=a.content_id, inline=a.inline, data=a.data)
                for a in message.mail.attachments)
            for address in message.post.raw["email"]["bounced"]:
                _suppress(message.channel.id, address, f"bounced: {message.mail.subject[:200]}")
        results.append(MailOutcome(outcome.status, message.post.external_id, outcome.conversation_id,
                                   outcome.message_id))
    db.session.flush()
    return results


def _suspend_floods(messages: list[ReadMail]) -> set[int]:
    """Suspend the messages whose sender is past the flood limit (a bounce never is); their indexes.

    Each sender's recent messages are counted once for the whole group, then every
    message of theirs in the group counts too, in order. Unlike storing them one by
    one, a repeat of a message (its Message-ID again) counts as well: a sender that
    retries a lot within one group reaches the limit a little sooner.
    """
    limit = current_app.config["EMAIL_FLOOD_MESSAGES"]
    since = utcnow() - timedelta(seconds=current_app.config["EMAIL_FLOOD_SECONDS"])
    counts: dict[tuple[int, str], int] = {}
    for channel_id in {message.channel.id for message in messages}:
        senders = {m.post.author.external_id for m in messages if m.channel.id == channel_id}
        counts.update(((channel_id, sender), count) for sender, count in db.session.connection().execute(
            RECENT_FROM, {"channel_id": channel_id, "senders": sorted(senders), "since": since}))
    suspended = set()
    for index, message in enumerate(messages):
        post, channel = message.post, message.channel
        if post.raw["email"]["bounced"]:
            continue
        key = (channel.id, post.author.external_id)
        if counts.get(key, 0) >= limit:
            suspended.add(index)
            _keep_suspended(message)
        else:
            counts[key] = counts.get(key, 0) + 1
    return suspended


def _keep_suspended(message: ReadMail) -> None:
    """Keep a flooding sender's message whole for an admin (once per Message-ID)."""
    post, channel = message.post, message.channel
    hold_mail(channel.id, post.external_id, post.author.external_id, post.subject, message.raw,
              f"more than {current_app.config['EMAIL_FLOOD_MESSAGES']} messages in "
              f"{current_app.config['EMAIL_FLOOD_SECONDS']} s from this sender")


def hold_mail(channel_id: int, message_key: str, sender: str, subject: str, raw: bytes, reason: str) -> None:
    """Keep a message whole as suspended mail for an admin, with the reason (once per key on its channel);
    written into the current transaction."""
    known = db.session.connection().execute(sa.select(SuspendedEmail.id).where(
        SuspendedEmail.channel_id == channel_id, SuspendedEmail.message_key == message_key)).first()
    if known is None:
        db.session.add(SuspendedEmail(channel_id=channel_id, message_key=message_key[:255], sender=sender[:254],
                                      subject=(subject or "")[:500], raw=raw, reason=reason[:500]))
        db.session.flush()


def _suppress(channel_id: int, address: str, reason: str) -> None:
    exists = db.session.scalar(sa.select(EmailSuppression.id).where(
        EmailSuppression.channel_id == channel_id, EmailSuppression.address == address))
    if exists is None:
        db.session.add(EmailSuppression(channel_id=channel_id, address=address, reason=reason))


# What reading a message needs of its channel (read_mail's `channel`).
CHANNEL_FIELDS = sa.select(CHANNELS.c.id, CHANNELS.c.slug, CHANNELS.c.kind, CHANNELS.c.secret, CHANNELS.c.enabled,
                           CHANNELS.c.settings)
EMAIL_CHANNELS = CHANNEL_FIELDS.where(CHANNELS.c.kind == "email", CHANNELS.c.enabled.is_(True))


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
