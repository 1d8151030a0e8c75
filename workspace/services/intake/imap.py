"""Polling email channels' IMAP mailboxes: each new message stored as if it had come over SMTP."""

import logging
from dataclasses import dataclass, field

import sqlalchemy as sa

from workspace.channels.email.mailbox import REFUSED, STORED, MailboxError, opened
from workspace.errors import ValidationError
from workspace.extensions import db
from workspace.models import Channel
from workspace.services.intake.mail import receive_mail

log = logging.getLogger(__name__)


@dataclass
class PollReport:
    """What one poll of one mailbox did."""

    stored: list[int] = field(default_factory=list)  # conversation ids of new messages
    duplicates: int = 0
    suspended: int = 0
    refused: int = 0
    failed: int = 0
    error: str | None = None


def polled_channels() -> list:
    """The enabled email channels that have a mailbox to poll (an imap_host setting)."""
    channels = db.session.scalars(sa.select(Channel).where(Channel.kind == "email", Channel.enabled.is_(True)))
    return [channel for channel in channels if (channel.settings or {}).get("imap_host")]


def poll_mailbox(channel) -> PollReport:
    """Store the channel's new IMAP messages; each is marked in the mailbox only once committed.

    A message that is not mail is marked refused; one that failed to store for any other reason is left
    unmarked for the next poll, and the rest go on.
    """
    report = PollReport()
    try:
        with opened(channel.settings or {}) as mailbox:
            for uid in mailbox.waiting():
                raw = mailbox.read(uid)
                if raw is None:
                    continue
                try:
                    outcome = receive_mail(channel, raw)
                except ValidationError as error:
                    db.session.rollback()
                    log.warning("IMAP message %s on %s refused: %s", uid, channel.slug, error.message)
                    mailbox.mark(uid, REFUSED)
                    report.refused += 1
                    continue
                except Exception:  # noqa: BLE001 - left unmarked: the next poll tries it again
                    db.session.rollback()
                    log.exception("IMAP message %s on %s could not be stored", uid, channel.slug)
                    report.failed += 1
                    continue
                mailbox.mark(uid, STORED)
                if outcome.status == "stored":
                    report.stored.append(outcome.conversation_id)
                elif outcome.status == "suspended":
                    report.suspended += 1
                else:
                    report.duplicates += 1
    except MailboxError as error:
        report.error = str(error)
        log.warning("IMAP mailbox of %s: %s", channel.slug, error)
    return report
