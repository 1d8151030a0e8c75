"""Mail out in the real browser, checked in what a local SMTP relay receives: an email reply with the customer's
Cc filled in, edited, a Bcc and a file; forwarding the conversation; a new email from the console."""

from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from tests.channels.email.conftest import CapturingRelay, free_port
from tests.console.factories import serious_violations
from tests.console.test_email_console import mailed  # noqa: F401  (the received mail this test answers)
from tests.factories import wait_for
from workspace.extensions import db
from workspace.models import Channel, Conversation, Queue


@pytest.fixture
def relay(app, mailed):  # noqa: F811
    """A capturing relay the worker process delivers the 'mail' channel's mail to; yields it."""
    capture = CapturingRelay()
    controller = Controller(capture, hostname="127.0.0.1", port=free_port())
    controller.start()
    with app.app_context():
        channel = db.session.scalar(sa.select(Channel).where(Channel.slug == "mail"))
        channel.settings = {**channel.settings, "smtp_host": "127.0.0.1", "smtp_port": controller.port}
        db.session.commit()
    yield capture
    controller.stop()


def parsed(relay, index):
    """The envelope recipients and parsed message of the index-th mail the relay received."""
    _, recipients, raw = relay.received[index]
    return recipients, message_from_bytes(raw, policy=policy.default), raw


def test_reply_forward_and_a_new_email_from_the_console(app, open_console, live_server, mailed, relay,  # noqa: F811
                                                         tmp_path):
    """Cc is filled with whom the customer copied and can be changed; Bcc stays out of the headers; a file goes
    along; Forward and New email send through the same delivery; the page stays accessible and narrow."""
    page = open_console("ana@example.com")
    assert wait_for(lambda: page.goto(f"{live_server}/conversations/{mailed}") and
                    page.locator("#thread .email-head").count() > 0, timeout=30)
    assert page.is_visible("#email-fields") and page.is_visible("#forward")
    assert page.input_value("#reply-cc") == "bob@customer.example"
    assert serious_violations(page, "#composer") == []

    page.fill("#reply-text", "Here is your receipt.")
    page.fill("#reply-cc", "bob@customer.example, carol@partner.example")
    page.fill("#reply-bcc", "audit@brand.example")
    receipt = tmp_path / "receipt.txt"
    receipt.write_text("Order 42: refunded")
    page.set_input_files("#reply-files", str(receipt))
    page.click("#send-reply")
    assert wait_for(lambda: len(relay.received) == 1, timeout=30)
    recipients, mail, raw = parsed(relay, 0)
    assert recipients == ["ann@customer.example", "bob@customer.example", "carol@partner.example",
                          "audit@brand.example"]
    assert mail["Cc"] == "bob@customer.example, carol@partner.example" and b"audit@brand.example" not in raw
    assert [(p.get_filename(), p.get_content().strip()) for p in mail.iter_attachments()] == [
        ("receipt.txt", "Order 42: refunded")]
    page.wait_for_selector("#thread .message.outbound .email-head:has-text('Bcc: audit@brand.example')")
    assert page.input_value("#reply-bcc") == "" and page.input_value("#reply-files") == ""

    page.fill("#reply-cc", "not an address")  # refused, with the server's words, and nothing sent
    page.fill("#reply-text", "A second reply.")
    page.click("#send-reply")
    page.wait_for_selector("#toast:has-text('cc')")
    assert page.input_value("#reply-text") == "A second reply."

    page.click("#forward")
    page.fill("#forward-to", "courier@logistics.example")
    page.fill("#forward-note", "Please trace parcel 42.")
    assert serious_violations(page, "#forward-dialog") == []
    page.click("#forward-send")
    assert wait_for(lambda: len(relay.received) == 2, timeout=30)
    recipients, mail, _ = parsed(relay, 1)
    assert recipients == ["courier@logistics.example"] and mail["Subject"].startswith("Fwd: My order is late")
    assert mail.get_body(("plain",)).get_content().startswith("Please trace parcel 42.")
    page.wait_for_selector("#thread .email-flag:has-text('Forwarded')")

    with app.app_context():
        queue = db.session.get(Conversation, mailed).queue.slug
        assert db.session.scalar(sa.select(Queue).where(Queue.slug == queue)) is not None
    page.click("#compose-email")
    page.select_option("#compose-queue", queue)
    page.fill("#compose-to", "dan@customer.example")
    page.fill("#compose-subject", "Your new order")
    page.fill("#compose-text", "It ships tomorrow.")
    assert serious_violations(page, "#compose-dialog") == []
    page.click("#compose-send")
    assert wait_for(lambda: len(relay.received) == 3, timeout=30)
    recipients, mail, _ = parsed(relay, 2)
    assert recipients == ["dan@customer.example"] and mail["Subject"].startswith("Your new order [#")
    page.wait_for_selector("#conv-subject:has-text('Your new order')")
    assert page.url != f"{live_server}/conversations/{mailed}"

    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server}/conversations/{mailed}")
    page.wait_for_selector("#email-fields")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
