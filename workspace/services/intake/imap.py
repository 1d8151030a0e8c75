"""Reading email channels' IMAP mailboxes: each new message stored as if it had come over SMTP.

A watcher keeps one mailbox connected: it stores what is waiting, then waits
in IDLE for the server to announce more (polling every poll interval where the
server has no IDLE), and reconnects after a dropped connection with a backoff
that doubles up to five minutes.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import Flask

from workspace.channels.email.mailbox import BATCH, REFUSED, STORED, Mailbox, MailboxError, opened
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
    # Whether a whole BATCH was waiting (more may be: read again at once).
    full: bool = False


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
            store_waiting(channel, mailbox, report)
    except MailboxError as error:
        report.error = str(error)
        log.warning("IMAP mailbox of %s: %s", channel.slug, error)
    return report


def store_waiting(channel, mailbox: Mailbox, report: PollReport) -> PollReport:
    """Store up to one BATCH of the messages waiting in an open mailbox (see poll_mailbox); raises
    MailboxError if the connection fails."""
    waiting = mailbox.waiting()
    report.full = len(waiting) >= BATCH
    for uid in waiting:
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
    return report


# After a failed connection the watcher waits this long before the next, doubling up to the longest.
FIRST_BACKOFF_SECONDS = 1.0
LONGEST_BACKOFF_SECONDS = 300.0


class MailboxWatcher:
    """Keeps one email channel's mailbox read in a thread of its own, until stopped or the channel stops
    having a mailbox (disabled, deleted, imap_host removed).

    Args:
        app: the application (the thread runs in its context).
        channel_id: the channel.
        poll_seconds: how often a server without IDLE is asked; with IDLE, how long one IDLE lasts at most.
        on_report: called with (channel, report) after each read of the mailbox, in the watcher's thread.
    """

    def __init__(self, app: Flask, channel_id: int, poll_seconds: float,
                 on_report: Callable[[object, PollReport], None] | None = None):
        self.app, self.channel_id, self.poll_seconds = app, channel_id, poll_seconds
        self.on_report = on_report or (lambda channel, report: None)
        self.stopping = threading.Event()
        self.mailbox: Mailbox | None = None
        self.connections = 0  # how many times it has logged in
        self.idling = False  # whether the server offered IDLE on the last connection
        self.backoff = FIRST_BACKOFF_SECONDS
        self.thread = threading.Thread(target=self._run, name=f"imap-{channel_id}", daemon=True)

    def start(self) -> "MailboxWatcher":
        """Start watching; returns self."""
        self.thread.start()
        return self

    def alive(self) -> bool:
        """Whether the watcher still runs."""
        return self.thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop watching: a wait in IDLE or between polls ends at once."""
        self.stopping.set()
        mailbox = self.mailbox
        if mailbox is not None:
            mailbox.interrupt()
        self.thread.join(timeout)

    def _run(self) -> None:
        with self.app.app_context():
            while not self.stopping.is_set():
                channel = _watched(self.channel_id)
                if channel is None:
                    return
                try:
                    self._watch(channel)
                except MailboxError as error:
                    if self.stopping.is_set():
                        return
                    log.warning("IMAP mailbox of channel %s: %s; again in %.0f s", self.channel_id, error,
                                self.backoff)
                finally:
                    self.mailbox = None
                    db.session.remove()
                self.stopping.wait(self.backoff)
                self.backoff = min(self.backoff * 2, LONGEST_BACKOFF_SECONDS)

    def _watch(self, channel) -> None:
        """One connection: store, wait for news, store again, until it drops or the settings change."""
        settings = dict(channel.settings or {})
        with opened(settings) as mailbox:
            self.mailbox, self.connections, self.backoff = mailbox, self.connections + 1, FIRST_BACKOFF_SECONDS
            if self.stopping.is_set():
                return
            self.idling = mailbox.can_idle()
            while not self.stopping.is_set():
                report = store_waiting(channel, mailbox, PollReport())
                self.on_report(channel, report)
                db.session.remove()
                if not report.full:
                    if self.idling:
                        mailbox.idle(self.poll_seconds)
                    else:
                        self.stopping.wait(self.poll_seconds)
                channel = _watched(self.channel_id)
                if channel is None or dict(channel.settings or {}) != settings:
                    return  # gone, or to be read with its new settings


def _watched(channel_id: int):
    """The channel if it is an enabled email channel with a mailbox, else None."""
    channel = db.session.get(Channel, channel_id)
    if channel is None or channel.kind != "email" or not channel.enabled:
        return None
    return channel if (channel.settings or {}).get("imap_host") else None
