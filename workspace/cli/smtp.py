"""`flask smtp`: the SMTP listener a brand's MTA delivers or relays mail to; `flask imap`: mailbox polling.

The listener receives now and reads later, as every MTA does: each message is
written raw to the spool (services.intake.spool) and answered 250 only once
that is committed, so a sender that heard 250 can forget the message; a worker
then reads and stores it (parsing, threading, the flood check), each message
exactly once. Messages arriving together from concurrent sessions are spooled
in one transaction (group commit), each answered only once it committed, and
handed to one job per group. Anything that goes wrong while spooling is a 451
(try again), which every MTA retries; a crash before the commit has
acknowledged nothing. A message over EMAIL_MAX_BYTES is answered 552 while it
is read, and a recipient no email channel takes is refused at RCPT (550)
before any data is sent. A message the worker cannot read is kept as suspended
mail for an admin: once answered 250 it is ours.
"""

import asyncio
import logging
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import click
from aiosmtpd.controller import Controller
from flask import Flask, current_app
from flask.cli import with_appcontext

from workspace.cli.smtp_server import Listener
from workspace.extensions import db
from workspace.jobs import dispatch
from workspace.jobs.enqueue import enqueue
from workspace.jobs.tasks import mail
from workspace.services.intake.imap import MailboxWatcher, poll_mailbox, polled_channels
from workspace.services.intake.mail import channel_for_address
from workspace.services.intake.spool import Received, SpoolCommitter

log = logging.getLogger(__name__)
# Which channel takes an address is looked up at most this often (as webhooks' channel cache): a new or
# disabled channel reaches the listener within it.
CHANNEL_CACHE_SECONDS = 2.0
# Addresses remembered at most: RCPT to endless made-up addresses must not grow the cache without end.
CHANNEL_CACHE_SIZE = 10_000
# Messages waiting for their group's commit at once; more sessions than this wait their turn.
SESSION_THREADS = 64
# The answer when we could not take a message now: the sender keeps it and tries again later.
TRY_AGAIN = "451 4.3.0 The message could not be stored; try again later"
# How often `flask imap` looks for channels given a mailbox since it started.
CHANNELS_REFRESH_SECONDS = 30.0


class MailHandler:
    """aiosmtpd's handler: recipients checked against the email channels, messages spooled before 250."""

    def __init__(self, app: Flask):
        self.app = app
        self.channels: dict[str, tuple[float, object]] = {}
        # Messages of concurrent sessions are spooled together (each answered once its group committed), and
        # each group is handed to one job to read.
        self.committer = SpoolCommitter(app, on_committed=lambda ids: enqueue(mail.read_spooled_mail, ids))
        # Enough threads for every session to wait on the committer at once, so they can share its groups.
        self.threads = ThreadPoolExecutor(SESSION_THREADS, thread_name_prefix="smtp-spool")

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        """Take a recipient only if an email channel receives its mail."""
        channel = await asyncio.get_running_loop().run_in_executor(None, self._channel, address)
        if channel is None:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        """Spool the message for each channel it is addressed to; 250 only once all are committed."""
        return await asyncio.get_running_loop().run_in_executor(self.threads, self._spool, envelope)

    def _channel(self, address: str):
        """The channel taking mail to this address (cached briefly), from any thread."""
        cached = self.channels.get(address)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        with self.app.app_context():
            try:
                channel = channel_for_address(address)
            finally:
                db.session.remove()
        if len(self.channels) >= CHANNEL_CACHE_SIZE:
            self.channels.clear()
        self.channels[address] = (time.monotonic() + CHANNEL_CACHE_SECONDS, channel)
        return channel

    def _spool(self, envelope) -> str:
        """Spool one envelope's message (one row per channel); the SMTP answer."""
        raw = envelope.original_content or envelope.content  # within EMAIL_MAX_BYTES: the session refused more
        try:
            by_channel: dict[int, list[str]] = {}
            for address in envelope.rcpt_tos:
                channel = self._channel(address)  # may read the database: inside the 451 below
                if channel is not None:
                    by_channel.setdefault(channel.id, []).append(address)
            if not by_channel:
                return "250 2.0.0 OK: nothing to store"
            ids = self.committer.submit([Received(channel_id, envelope.mail_from or "", recipients, raw)
                                         for channel_id, recipients in by_channel.items()])
        except Exception:  # noqa: BLE001 - the sender keeps the message and retries: nothing is lost
            log.exception("spooling a received message failed; answered 451")
            return TRY_AGAIN
        return f"250 2.0.0 OK: queued as {' '.join(map(str, ids))}"

    async def handle_exception(self, error: Exception) -> str:
        """Any other failure of a session (the database not answering at RCPT, say) is a 451, which the
        sending MTA retries, never aiosmtpd's default 500 carrying the error's text, which it would bounce."""
        log.error("an SMTP session failed; answered 451", exc_info=error)
        return TRY_AGAIN


def start_listener(app: Flask, host: str, port: int) -> Controller:
    """Start the SMTP listener on host:port in a background thread; returns its controller (call .stop()).

    With SMTP_SHARED_PORT, other processes may listen on the same port (SO_REUSEPORT): run as many as the
    machine has cores to spare.
    """
    controller = Listener(MailHandler(app), shared_port=app.config["SMTP_SHARED_PORT"], hostname=host, port=port,
                          data_size_limit=app.config["EMAIL_MAX_BYTES"], enable_SMTPUTF8=True,
                          decode_data=False, server_hostname=host)
    controller.start()
    return controller


@click.command("smtp")
@click.option("--host", default=None, help="Address to listen on (default SWITCHBOARD_SMTP_HOST, 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port to listen on (default SWITCHBOARD_SMTP_PORT, 2525).")
@with_appcontext
def smtp(host: str | None, port: int | None):
    """Run the SMTP listener that takes mail for the email channels until stopped."""
    app = current_app._get_current_object()
    host = host or app.config["SMTP_LISTEN_HOST"]
    port = port or app.config["SMTP_LISTEN_PORT"]
    db.session.remove()
    controller = start_listener(app, host, port)
    click.echo(f"SMTP listener on smtp://{host}:{port}")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    controller.stop()


@click.command("imap")
@click.option("--every", default=30.0, show_default=True,
              help="Seconds between polls of a mailbox whose server has no IDLE (with IDLE, new mail is read "
                   "as the server announces it).")
@click.option("--once", is_flag=True, help="Read every mailbox once and stop.")
@with_appcontext
def imap(every: float, once: bool):
    """Read the email channels' IMAP mailboxes (imap_host settings) and store their new mail."""
    if once:
        for channel in polled_channels():
            _report(channel, poll_mailbox(channel))
        return
    app = current_app._get_current_object()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    watchers: dict[int, MailboxWatcher] = {}
    while not stop.is_set():
        # A channel given a mailbox since is picked up here; a watcher ends itself when its channel loses one.
        for channel in polled_channels():
            if channel.id not in watchers or not watchers[channel.id].alive():
                watchers[channel.id] = MailboxWatcher(app, channel.id, every, on_report=_report).start()
        db.session.remove()
        stop.wait(CHANNELS_REFRESH_SECONDS)
    for watcher in watchers.values():
        watcher.stop()


def _report(channel, report) -> None:
    """Route what a read of a mailbox stored, and say what it did (quietly when it did nothing)."""
    if report.stored:
        dispatch.notify(sorted(set(report.stored)))
    if report.stored or report.duplicates or report.suspended or report.refused or report.failed or report.error:
        click.echo(f"{channel.slug}: {len(report.stored)} stored, {report.duplicates} duplicates, "
                   f"{report.suspended} suspended, {report.refused} refused, {report.failed} failed"
                   + (f"; {report.error}" if report.error else ""))
