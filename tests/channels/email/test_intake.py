"""Mail in over a real SMTP conversation (spooled before 250, then read by a worker) and the signed raw-message
webhook (stored before 202): each message stored once."""

import smtplib
from email.message import EmailMessage
from email.policy import SMTP

import pytest
import sqlalchemy as sa

from tests.channels.email.conftest import ADDRESS, SmtpListener, free_port, send
from tests.channels.email.mail import plain, raw
from tests.factories import SECRET
from workspace.channels.signature import sign
from workspace.cli.smtp import start_listener
from workspace.extensions import db
from workspace.models import Conversation, EmailAttachment, EmailSuppression, Message, SuspendedEmail


def messages(app):
    """Every stored message as (conversation id, external id, text, subject), in order."""
    with app.app_context():
        rows = db.session.execute(sa.select(Message.conversation_id, Message.external_id, Message.text,
                                            Message.subject).order_by(Message.id)).all()
        db.session.remove()
        return [tuple(row) for row in rows]


def test_mail_over_smtp_is_stored_once_by_message_id(app, listener):
    """Once the worker has read what 250 spooled, the message is stored; the same Message-ID again changes
    nothing."""
    assert send(listener, plain()) == {}
    assert send(listener, plain()) == {}
    (stored,) = messages(app)
    assert stored[1:] == ("m1@customer.example", "My order never arrived.", "Help, please")
    with app.app_context():
        conversation = db.session.get(Conversation, stored[0])
        assert (conversation.author.email, conversation.author.name) == ("ann@customer.example", "Ann Customer")
        assert conversation.status == "new" and conversation.thread_key == "m1@customer.example"
        raw_email = db.session.scalar(sa.select(Message.raw))["email"]
        assert raw_email["to"] == [{"address": ADDRESS, "name": ""}]
        assert raw_email["mailboxes"] == [ADDRESS]


def test_unknown_recipients_are_refused_before_the_data(app, listener):
    """RCPT to a mailbox no channel takes is 550; nothing is stored."""
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(listener, plain(), to=("nobody@elsewhere.example",))
    assert refused.value.recipients["nobody@elsewhere.example"][0] == 550
    assert messages(app) == []


def test_a_message_over_the_limit_is_552_and_the_listener_stays_up(app, mailbox, run_jobs):
    """Past EMAIL_MAX_BYTES the listener answers 552 (at MAIL with SIZE, at DATA without), then takes the next."""
    app.config["EMAIL_MAX_BYTES"] = 200_000
    controller = start_listener(app, "127.0.0.1", free_port())
    listener = SmtpListener(controller.port, run_jobs, controller.handler)
    big = plain(text="x" * 300_000)
    try:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            send(listener, big)
        assert refused.value.smtp_code == 552
        with smtplib.SMTP("127.0.0.1", controller.port, timeout=30) as client:
            client.ehlo()
            client.mail("ann@customer.example")  # no SIZE=: the listener only learns at DATA
            client.rcpt(ADDRESS)
            assert client.data(big)[0] == 552
        assert send(listener, plain(message_id="<after@customer.example>")) == {}
    finally:
        controller.stop()
    assert [row[1] for row in messages(app)] == ["after@customer.example"]


def test_an_unreadable_message_is_accepted_then_suspended_and_the_next_one_is_stored(app, listener):
    """A message with no sender is answered 250 like any other (the listener does not read it: once answered
    it is ours); the worker keeps it as suspended mail with the reason and stores the next one."""
    unreadable = raw("Subject: nobody sent this\nMessage-ID: <anon@x>", "who?\n")
    assert send(listener, unreadable) == {}
    assert send(listener, plain()) == {}
    assert len(messages(app)) == 1
    with app.app_context():
        (held,) = db.session.scalars(sa.select(SuspendedEmail)).all()
        assert held.raw == unreadable and "no From address" in held.reason


def test_attachments_and_inline_images_are_stored_with_the_message(app, listener):
    """Each attachment is a row with its bytes, sniffed type and content id."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "ann@customer.example", ADDRESS, "Screenshot"
    message["Message-ID"] = "<shot@customer.example>"
    message.set_content("See the screenshot.")
    message.add_alternative('<p>See <img src="cid:shot@x"></p>', subtype="html")
    png = b"\x89PNG\r\n\x1a\n" + b"\x01" * 64
    message.get_payload()[1].add_related(png, maintype="image", subtype="png", cid="<shot@x>", filename="s.png")
    message.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="invoice.pdf")
    send(listener, message.as_bytes(policy=SMTP))
    with app.app_context():
        rows = db.session.scalars(sa.select(EmailAttachment).order_by(EmailAttachment.id)).all()
        assert [(r.filename, r.content_type, r.content_id, r.inline) for r in rows] == [
            ("s.png", "image/png", "shot@x", True), ("invoice.pdf", "application/pdf", None, False)]
        assert rows[0].data == png


def test_the_webhook_takes_a_signed_raw_message(app, client, mailbox):
    """message/rfc822 signed with the channel's secret: 202 stored, 200 duplicate, 401 unsigned, 415 JSON."""
    body = plain()
    headers = {"Content-Type": "message/rfc822", "X-Switchboard-Signature": sign(SECRET, body)}
    first = client.post("/webhooks/mail", data=body, headers=headers)
    assert first.status_code == 202, first.get_json()
    assert first.get_json()["status"] == "stored" and first.get_json()["id"] == "m1@customer.example"
    again = client.post("/webhooks/mail", data=body, headers=headers)
    assert (again.status_code, again.get_json()["status"]) == (200, "duplicate")
    unsigned = client.post("/webhooks/mail", data=body, headers={"Content-Type": "message/rfc822"})
    assert unsigned.status_code == 401
    as_json = client.post("/webhooks/mail", data=body, headers={**headers, "Content-Type": "application/json"})
    assert as_json.status_code == 415
    bad = raw("Subject: no sender", "x")
    refused = client.post("/webhooks/mail", data=bad, headers={"Content-Type": "message/rfc822",
                                                               "X-Switchboard-Signature": sign(SECRET, bad)})
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "invalid_message"
    app.config["EMAIL_MAX_BYTES"] = 100_000
    big = plain(message_id="<big@customer.example>", text="x" * 200_000)
    too_big = client.post("/webhooks/mail", data=big, headers={"Content-Type": "message/rfc822",
                                                               "X-Switchboard-Signature": sign(SECRET, big)})
    assert too_big.status_code == 413
    assert len(messages(app)) == 1


def test_a_bounce_is_recorded_and_stops_mail_to_that_address(app, listener):
    """A delivery status notification threads under the mail it returns and suppresses the address."""
    send(listener, plain(sender="gone@customer.example", message_id="<orig@customer.example>"),
         sender="gone@customer.example")
    dsn = raw(
        "From: MAILER-DAEMON@mx.customer.example\nTo: support@example.test\nSubject: Undelivered Mail\n"
        "Message-ID: <dsn@mx.customer.example>\nAuto-Submitted: auto-replied\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
        "--B\nContent-Type: text/plain\n\nCould not deliver.\n--B\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.customer.example\n\nFinal-Recipient: rfc822; gone@customer.example\n"
        "Action: failed\nStatus: 5.1.1\n\n--B\nContent-Type: text/rfc822-headers\n\n"
        "Message-ID: <orig@customer.example>\n\n--B--\n")
    send(listener, dsn, sender="")
    first, bounce = messages(app)
    assert first[0] == bounce[0]  # the bounce joined the conversation of the mail it returns
    with app.app_context():
        (suppressed,) = db.session.scalars(sa.select(EmailSuppression)).all()
        assert suppressed.address == "gone@customer.example"


def test_a_flooding_sender_is_suspended_not_queued(app, client, token, listener):
    """Past EMAIL_FLOOD_MESSAGES in the window, further mail is held in suspended mail; an admin releases or
    drops each."""
    app.config["EMAIL_FLOOD_MESSAGES"] = 3
    for number in range(5):
        send(listener, plain(message_id=f"<flood{number}@customer.example>", subject=f"spam {number}"))
    assert len(messages(app)) == 3
    with app.app_context():
        held = db.session.scalars(sa.select(SuspendedEmail).order_by(SuspendedEmail.id)).all()
        assert [h.message_key for h in held] == ["flood3@customer.example", "flood4@customer.example"]
        assert b"Message-ID: <flood3@customer.example>" in held[0].raw
        first, second = held[0].id, held[1].id
    auth = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/suspended-mail", headers=auth).get_json()["data"]
    assert [(h["message_id"], h["sender"]) for h in listed] == [
        ("flood4@customer.example", "ann@customer.example"), ("flood3@customer.example", "ann@customer.example")]
    released = client.post(f"/api/v1/suspended-mail/{first}/release", headers=auth)
    assert released.status_code == 200 and released.get_json()["status"] == "stored"
    assert client.delete(f"/api/v1/suspended-mail/{second}", headers=auth).status_code == 204
    assert client.get("/api/v1/suspended-mail", headers=auth).get_json()["data"] == []
    assert client.post(f"/api/v1/suspended-mail/{first}/release", headers=auth).status_code == 404
    assert [row[1] for row in messages(app)][-1] == "flood3@customer.example"


def test_the_api_shows_the_email_and_serves_its_attachments(app, client, token, listener):
    """The thread carries from/to/cc, the quoted history, HTML with cid images pointing at their attachment;
    images are served inline, anything else as a download, never as a page."""
    message = EmailMessage()
    message["From"], message["To"], message["Cc"] = "Ann <ann@customer.example>", ADDRESS, "bob@customer.example"
    message["Subject"], message["Message-ID"] = "Broken", "<api@customer.example>"
    message.set_content("It is broken.\n\nOn Sun, Dec 6, 2026 Support wrote:\n> Try again")
    message.add_alternative('<p>It is broken. <img src="cid:pic@x"><img src="https://track.example/p.gif"></p>',
                            subtype="html")
    png = b"\x89PNG\r\n\x1a\n" + b"\x02" * 32
    message.get_payload()[1].add_related(png, maintype="image", subtype="png", cid="<pic@x>", filename="p.png")
    message.add_attachment(b"<script>alert(1)</script>", maintype="text", subtype="html", filename="page.html")
    send(listener, message.as_bytes(policy=SMTP))
    auth = {"Authorization": f"Bearer {token}"}
    conversation_id = messages(app)[0][0]
    detail = client.get(f"/api/v1/conversations/{conversation_id}", headers=auth).get_json()
    email = detail["messages"][0]["email"]
    assert email["from"] == {"address": "ann@customer.example", "name": "Ann"}
    assert email["cc"] == [{"address": "bob@customer.example", "name": ""}]
    assert "Try again" in email["quoted"] and detail["messages"][0]["text"] == "It is broken."
    picture, page = email["attachments"]
    assert f'src="{picture["url"]}"' in email["html"] and "track.example" not in email["html"]
    assert email["remote_images"] == 1
    image = client.get(picture["url"], headers=auth)
    assert (image.status_code, image.mimetype, image.data) == (200, "image/png", png)
    download = client.get(page["url"], headers=auth)
    assert download.mimetype == "application/octet-stream"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert client.get(page["url"]).status_code == 401
