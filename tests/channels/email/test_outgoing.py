"""Replies as mail into a real capturing SMTP relay: no header injection, bounced addresses stopped."""

from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from tests.channels.email.conftest import free_port
from workspace.extensions import db
from workspace.models import Agent, Author, Channel, Conversation, EmailSuppression, Message
from workspace.services.conversations import delivery


@pytest.fixture
def reply(app, mailbox):
    """Make a conversation with a customer and an agent's queued reply: reply(name=..., subject=...) -> id."""

    def make(name="Ann", subject="Help", address="ann@customer.example", text="We are on it."):
        with app.app_context():
            channel = db.session.query(Channel).filter_by(slug="mail").one()
            agent = db.session.query(Agent).first() or Agent(email="ada@example.com", name="Ada", role="agent")
            author = Author(channel=channel, external_id=address, handle=address, name=name, email=address)
            conversation = Conversation(channel=channel, author=author, subject=subject, status="open",
                                        thread_key=f"t-{address}")
            db.session.add_all([agent, author, conversation])
            db.session.flush()
            db.session.add(Message(conversation=conversation, channel_id=channel.id, author=author,
                                   direction="inbound", external_id=f"in-{address}", subject=subject, text="Hi"))
            message = Message(conversation=conversation, channel_id=channel.id, agent=agent, direction="outbound",
                              text=text, delivery_status="queued")
            db.session.add(message)
            db.session.commit()
            return message.id

    return make


def deliver(app, message_id: int) -> str:
    with app.app_context():
        try:
            return delivery.deliver_reply(message_id)
        finally:
            db.session.remove()


def test_crlf_in_a_name_or_subject_adds_no_header(app, relay, reply):
    """A customer name and subject carrying CR LF and a Bcc: header go out as one line each."""
    message_id = reply(name="Eve\r\nBcc: victim@example.org", subject="Hi\r\nBcc: victim@example.org\r\n\r\nbody")
    assert deliver(app, message_id) == "sent"
    (_, recipients, sent), = relay.received
    assert recipients == ["ann@customer.example"]
    mail = message_from_bytes(sent, policy=policy.default)
    assert mail["Bcc"] is None
    assert "victim@example.org" in mail["Subject"] and "\n" not in mail["Subject"]
    assert sent.count(b"\r\nBcc:") == 0


def test_a_resend_carries_the_same_message_id(app, relay, reply):
    """The Message-ID is made from the reply and its delivery key, so a retried send is the same mail."""
    message_id = reply()
    deliver(app, message_id)
    with app.app_context():
        first = db.session.get(Message, message_id)
        assert first.external_id.startswith(f"sb.{message_id}.") and first.delivery_status == "sent"
        first.delivery_status = "failed"  # as if the attempt died after the relay took it
        db.session.commit()
    deliver(app, message_id)
    ids = [message_from_bytes(raw, policy=policy.default)["Message-ID"] for _, _, raw in relay.received]
    assert len(ids) == 2 and ids[0] == ids[1]


def test_mail_to_a_bounced_address_is_stopped(app, relay, reply):
    """After a bounce suppressed the address, the reply fails for good and nothing is sent."""
    message_id = reply(address="gone@customer.example")
    with app.app_context():
        db.session.add(EmailSuppression(channel_id=1, address="gone@customer.example", reason="bounced: 5.1.1"))
        db.session.commit()
    assert deliver(app, message_id) == "failed"
    assert relay.received == []


def test_a_relay_refusing_the_recipient_fails_the_reply_for_good(app, mailbox, reply):
    """A 5xx from the relay is final (Refused); the reason is on the message."""

    class Refusing:
        async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
            return "550 5.1.1 no such user"

    controller = Controller(Refusing(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        with app.app_context():
            channel = db.session.query(Channel).filter_by(slug="mail").one()
            channel.settings = {**channel.settings, "smtp_port": controller.port}
            db.session.commit()
        message_id = reply()
        assert deliver(app, message_id) == "failed"
        with app.app_context():
            assert "refused" in db.session.get(Message, message_id).delivery_error
    finally:
        controller.stop()


def test_a_channel_without_a_relay_skips_delivery(app, mailbox, reply):
    """No smtp_host: the reply stays here, marked skipped with the reason."""
    with app.app_context():
        channel = db.session.query(Channel).filter_by(slug="mail").one()
        channel.settings = {"address": channel.settings["address"]}
        db.session.commit()
    message_id = reply()
    assert deliver(app, message_id) == "skipped"
