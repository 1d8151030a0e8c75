"""Fixtures for the email channel: a mailbox channel, the SMTP listener on a free port, a capturing relay."""

import contextlib
import smtplib
import socket
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from aiosmtpd.controller import Controller

from tests.factories import SECRET
from workspace.cli.smtp import start_listener
from workspace.extensions import db
from workspace.models import Channel, Queue

ADDRESS = "support@example.test"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class CapturingRelay:
    """A real SMTP server that keeps every message it receives (the customer's mail provider)."""

    def __init__(self):
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        """Keep the message."""
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"


@contextlib.contextmanager
def capturing_relay():
    """A capturing SMTP relay on a free port while the block runs: .received, .port."""
    capture = CapturingRelay()
    controller = Controller(capture, hostname="127.0.0.1", port=free_port())
    controller.start()
    capture.port = controller.port
    try:
        yield capture
    finally:
        controller.stop()


@pytest.fixture
def relay():
    """A capturing SMTP relay on a free port: relay.received, relay.port."""
    with capturing_relay() as capture:
        yield capture


@pytest.fixture
def mailbox(app, relay):
    """An email channel 'mail' for support@example.test whose replies go out through the relay."""
    with app.app_context():
        db.session.add(Channel(slug="mail", name="Example Support", kind="email", secret=SECRET, settings={
            "address": ADDRESS, "smtp_host": "127.0.0.1", "smtp_port": relay.port}))
        for slug in ("triage", "billing", "tech"):
            db.session.add(Queue(slug=slug, name=slug.title()))
        db.session.commit()
    return "mail"


@dataclass
class SmtpListener:
    """The SMTP listener under test: its port, and `read()`, which runs the queued jobs with a real RQ worker
    (the job that reads what the listener spooled among them) until none is left."""

    port: int
    read: Callable[[], None]
    handler: object  # the listener's MailHandler


@pytest.fixture
def listener(app, mailbox, run_jobs):
    """The SMTP listener on a free port, spooling into the test database; yields an SmtpListener."""
    controller = start_listener(app, "127.0.0.1", free_port())
    yield SmtpListener(controller.port, run_jobs, controller.handler)
    controller.stop()


def send(listener: SmtpListener, message: bytes, to=(ADDRESS,), sender="ann@customer.example") -> dict:
    """Send one message over SMTP as a mail client would, then let a worker read what the listener spooled;
    returns smtplib's refused-recipients dict."""
    with smtplib.SMTP("127.0.0.1", listener.port, timeout=30) as client:
        refused = client.sendmail(sender, list(to), message)
    listener.read()
    return refused
