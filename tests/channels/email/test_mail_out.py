"""Mail out from the console and the API, checked in what a real SMTP relay receives: Cc and Bcc kept and edited,
forwards to a third party, new outbound mail, per-queue signatures and attachments; hostile input refused."""

import base64
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa

from tests.channels.email.conftest import send
from tests.channels.email.mail import plain
from workspace.channels.email import drafts
from workspace.extensions import db
from workspace.jobs.dispatch import dispatch_once
from workspace.models import Agent, Author, Channel, Conversation, EmailAttachment, Message, Queue
from workspace.services.conversations.replies import store_reply

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64



@pytest.fixture
def post(client, token):
    """POST JSON to an API path with the admin's token: post(path, body) -> response."""

    def call(path, body):
        return client.post(f"/api/v1{path}", json=body, headers={"Authorization": f"Bearer {token}"})

    return call


@pytest.fixture
def received(app, listener, run_jobs):
    """Receive a customer's mail over SMTP (copying others) and route it: received(**plain args) -> conversation."""

    def receive(**fields):
        fields.setdefault("headers", {"Cc": "Bob <bob@customer.example>, support@example.test"})
        send(listener, plain(**fields))
        with app.app_context():
            assert dispatch_once(100)
        run_jobs()
        with app.app_context():
            found = db.session.scalar(sa.select(Message.conversation_id).where(
                Message.external_id == fields.get("message_id", "<m1@customer.example>").strip("<>")))
            db.session.remove()
        return found

    return receive


def forum_conversation(app) -> tuple[int, str]:
    """A conversation on a channel that is not email: (its id, the channel's slug)."""
    with app.app_context():
        channel = Channel(slug="forum", name="Forum", kind="native", secret="s" * 32)
        author = Author(channel=channel, external_id="u1", handle="u1", name="U")
        conversation = Conversation(channel=channel, author=author, queue=db.session.scalar(
            sa.select(Queue).where(Queue.slug == "billing")), status="open", subject="Hi", thread_key="t1")
        db.session.add(conversation)
        db.session.commit()
        return conversation.id, channel.slug


def sent_mail(relay, index=-1):
    """The envelope recipients and parsed message of a mail the relay received."""
    _, recipients, raw = relay.received[index]
    return recipients, message_from_bytes(raw, policy=policy.default), raw


def test_a_reply_copies_whom_the_customer_copied_and_bcc_stays_out_of_the_headers(
        app, post, relay, received, run_jobs, api):
    """The customer's Cc is kept on their message and becomes the reply's Cc; an edited list and a Bcc go out."""
    conversation_id = received()
    thread = api(f"/conversations/{conversation_id}").get_json()["messages"]
    assert thread[0]["email"]["cc"][0]["address"] == "bob@customer.example"
    assert thread[0]["email"]["copies"] == ["bob@customer.example"]  # not us, not the sender

    assert post(f"/conversations/{conversation_id}/replies", {"text": "Default copies."}).status_code == 201
    run_jobs()
    recipients, mail, _ = sent_mail(relay)
    assert recipients == ["ann@customer.example", "bob@customer.example"]
    assert mail["Cc"] == "bob@customer.example"

    answer = post(f"/conversations/{conversation_id}/replies", {
        "text": "Edited copies.", "cc": ["carol@partner.example"], "bcc": ["audit@Brand.Example"]})
    assert answer.status_code == 201, answer.get_json()
    assert [a["address"] for a in answer.get_json()["email"]["bcc"]] == ["audit@brand.example"]
    run_jobs()
    recipients, mail, raw = sent_mail(relay)
    assert recipients == ["ann@customer.example", "carol@partner.example", "audit@brand.example"]
    assert mail["Cc"] == "carol@partner.example" and mail["Bcc"] is None
    assert b"audit@brand.example" not in raw


@pytest.mark.parametrize("bad", ["eve@example.org\r\nBcc: victim@example.org", "eve@example.org, victim@x.org",
                                 "Eve <eve@example.org>", "eve@example.org\n", "not an address", ""])
def test_an_address_that_could_inject_a_header_is_refused(app, post, relay, received, bad):
    """CR LF, commas, display names and non-addresses in cc, bcc or to are a 400; nothing is stored or sent."""
    conversation_id = received()
    for field in ("cc", "bcc"):
        answer = post(f"/conversations/{conversation_id}/replies", {"text": "Hi", field: [bad]})
        assert answer.status_code == 400 and answer.get_json()["error"]["message"].startswith(field)
    assert post(f"/conversations/{conversation_id}/forwards", {"to": [bad]}).status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
            Message.direction == "outbound")) == 0
    assert relay.received == []


def test_ten_thousand_cc_addresses_are_a_clear_400(app, post, received):
    """A list past the limit is refused whole, naming the field and the limit."""
    conversation_id = received()
    many = [f"user{n}@example.org" for n in range(10_000)]
    answer = post(f"/conversations/{conversation_id}/replies", {"text": "Hi", "cc": many})
    assert answer.status_code == 400
    assert answer.get_json()["error"]["message"].startswith("cc")
    assert str(drafts.MAX_ADDRESSES) in answer.get_json()["error"]["message"]


def test_cc_on_a_channel_that_is_not_email_is_refused(app, post, mailbox):
    """Only an email reply takes cc, bcc or files; only an email conversation can be forwarded."""
    conversation_id, _ = forum_conversation(app)
    answer = post(f"/conversations/{conversation_id}/replies", {"text": "Hi", "cc": ["a@b.org"]})
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "not_email"
    answer = post(f"/conversations/{conversation_id}/forwards", {"to": ["a@b.org"]})
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "not_email"


def test_the_queue_signature_and_attachments_go_out_in_a_multipart_mixed_mail(
        app, client, token, post, relay, received, run_jobs, api):
    """The admin's signature ends the text and HTML parts; files go as attachments typed by their bytes."""
    conversation_id = received()
    with app.app_context():
        slug = db.session.get(Conversation, conversation_id).queue.slug
    changed = client.patch(f"/api/v1/queues/{slug}", json={"signature": "Ada & the <Billing> team\nexample.test"},
                           headers={"Authorization": f"Bearer {token}"})
    assert changed.status_code == 200 and changed.get_json()["signature"].startswith("Ada &")
    answer = post(f"/conversations/{conversation_id}/replies", {"text": "See attached.", "cc": [], "attachments": [
        {"filename": "../../etc/receipt.png", "content_base64": base64.b64encode(PNG).decode()},
        {"filename": "notes.txt", "content_base64": base64.b64encode("Grüße".encode()).decode()}]})
    assert answer.status_code == 201, answer.get_json()
    shown = answer.get_json()["email"]["attachments"]
    assert [(a["filename"], a["content_type"]) for a in shown] == [("receipt.png", "image/png"),
                                                                   ("notes.txt", "text/plain")]
    assert api(shown[0]["url"].removeprefix("/api/v1")).data == PNG
    run_jobs()
    recipients, mail, _ = sent_mail(relay)
    assert recipients == ["ann@customer.example"] and mail["Cc"] is None
    assert mail.get_content_type() == "multipart/mixed"
    text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.startswith("See attached.") and text.endswith("-- \nAda & the <Billing> team\nexample.test\n")
    assert "Ada &amp; the &lt;Billing&gt; team<br>example.test" in mail.get_body(("html",)).get_content()
    files = [(part.get_filename(), part.get_content_type(), part.get_content()) for part in mail.iter_attachments()]
    assert files[0] == ("receipt.png", "image/png", PNG)
    assert files[1][:2] == ("notes.txt", "text/plain") and files[1][2].strip() == "Grüße"


def test_an_oversize_attachment_is_refused_and_nothing_is_stored(app, post, received, monkeypatch):
    """Files past the total limit are a 400 attachments_too_large; no reply, no attachment row."""
    monkeypatch.setattr(drafts, "MAX_FILES_BYTES", 1000)
    conversation_id = received()
    answer = post(f"/conversations/{conversation_id}/replies", {"text": "Hi", "attachments": [
        {"filename": "big.bin", "content_base64": base64.b64encode(b"x" * 1001).decode()}]})
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "attachments_too_large"
    not_base64 = post(f"/conversations/{conversation_id}/replies", {"text": "Hi", "attachments": [
        {"filename": "a.bin", "content_base64": "%%%"}]})
    assert not_base64.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(EmailAttachment).join(Message).where(
            Message.direction == "outbound")) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
            Message.direction == "outbound")) == 0


def test_a_body_over_the_request_limit_is_a_413(app, client, token, received):
    """A body bigger than the files' limit allows is refused before it is read."""
    conversation_id = received()
    huge = b'{"text": "Hi", "attachments": [{"filename": "a", "content_base64": "' + \
        b"A" * (drafts.MAX_REQUEST_BYTES + 10) + b'"}]}'
    answer = client.post(f"/api/v1/conversations/{conversation_id}/replies", data=huge,
                         content_type="application/json", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 413 and "error" in answer.get_json()


def test_a_forward_goes_to_the_third_party_and_their_answer_joins_as_themselves(
        app, post, relay, received, run_jobs, listener, api):
    """The forward carries the note and the thread, is in the thread, and never goes to the customer; the third
    party's threaded answer joins as their own post (our replies still go to the customer); their unthreaded mail
    starts its own conversation."""
    conversation_id = received(text="My order never arrived.")
    answer = post(f"/conversations/{conversation_id}/forwards", {
        "to": ["courier@logistics.example"], "cc": ["lead@brand.example"], "note": "Can you trace this parcel?"})
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["email"]["kind"] == "forward"
    run_jobs()
    recipients, mail, _ = sent_mail(relay)
    assert recipients == ["courier@logistics.example", "lead@brand.example"]
    assert mail["To"] == "courier@logistics.example" and mail["In-Reply-To"] is None
    assert mail["Subject"] == f"Fwd: Help, please [#{conversation_id}]"
    text = mail.get_body(("plain",)).get_content()
    assert text.startswith("Can you trace this parcel?") and "My order never arrived." in text
    assert "From: Ann Customer" in text
    thread = api(f"/conversations/{conversation_id}").get_json()["messages"]
    assert thread[-1]["email"]["kind"] == "forward" and thread[-1]["delivery_status"] == "sent"

    forward_id = mail["Message-ID"].strip("<>")
    send(listener, plain(sender="Courier <courier@logistics.example>", subject=f"Re: {mail['Subject']}",
                         message_id="<c1@logistics.example>", text="Parcel is in the depot.",
                         headers={"In-Reply-To": f"<{forward_id}>"}), sender="courier@logistics.example")
    send(listener, plain(sender="Courier <courier@logistics.example>", subject="Help, please",
                         message_id="<c2@logistics.example>", text="Unrelated."), sender="courier@logistics.example")
    with app.app_context():
        joined = db.session.scalar(sa.select(Message).where(Message.external_id == "c1@logistics.example"))
        alone = db.session.scalar(sa.select(Message).where(Message.external_id == "c2@logistics.example"))
        conversation = db.session.get(Conversation, conversation_id)
        assert joined.conversation_id == conversation_id and joined.author.external_id == "courier@logistics.example"
        assert conversation.author.external_id == "ann@customer.example"
        assert alone.conversation_id != conversation_id
    assert post(f"/conversations/{conversation_id}/replies", {"text": "It is on its way.", "cc": []}).status_code == 201
    run_jobs()
    recipients, mail, _ = sent_mail(relay)
    assert recipients == ["ann@customer.example"]


def test_forwarding_one_message_and_refusals(app, post, received, api):
    """message_id forwards just that message; one of another conversation is a 404; a non-email one a 400."""
    conversation_id = received()
    first = api(f"/conversations/{conversation_id}").get_json()["messages"][0]["id"]
    answer = post(f"/conversations/{conversation_id}/forwards", {"to": ["x@partner.example"], "message_id": first})
    assert answer.status_code == 201 and answer.get_json()["email"]["forwarded"] == [first]
    assert post(f"/conversations/{conversation_id}/forwards",
                {"to": ["x@partner.example"], "message_id": 999999}).status_code == 404
    assert post(f"/conversations/{conversation_id}/forwards", {"to": []}).status_code == 400


def test_a_new_outbound_mail_starts_a_conversation_the_answer_joins(app, post, relay, listener, run_jobs, mailbox):
    """Compose: a pending conversation in the chosen queue, sent through delivery; the customer's answer joins."""
    answer = post("/conversations", {"channel": "mail", "queue": "billing", "to": "dan@customer.example",
                                     "cc": ["eve@customer.example"], "bcc": ["audit@brand.example"],
                                     "subject": "Your refund\r\nBcc: victim@example.org", "text": "It is done."})
    assert answer.status_code == 201, answer.get_json()
    created = answer.get_json()
    assert created["status"] == "pending" and created["queue"] == "billing"
    run_jobs()
    recipients, mail, raw = sent_mail(relay)
    assert recipients == ["dan@customer.example", "eve@customer.example", "audit@brand.example"]
    assert mail["Subject"] == f"Your refund Bcc: victim@example.org [#{created['id']}]"
    assert mail["Bcc"] is None and mail["In-Reply-To"] is None and b"victim@example.org\r\n" not in raw
    send(listener, plain(sender="dan@customer.example", subject=f"Re: {mail['Subject']}",
                         message_id="<d1@customer.example>", text="Thanks!",
                         headers={"In-Reply-To": mail["Message-ID"]}), sender="dan@customer.example")
    with app.app_context():
        joined = db.session.scalar(sa.select(Message).where(Message.external_id == "d1@customer.example"))
        assert joined.conversation_id == created["id"]


def test_composing_is_refused_for_a_queue_or_channel_that_does_not_fit(app, post, mailbox):
    """An unknown queue is a 404, a channel that is not email a 400, a missing subject a 400."""
    _, other = forum_conversation(app)
    body = {"channel": "mail", "queue": "billing", "to": "dan@customer.example", "subject": "Hi", "text": "Hi"}
    assert post("/conversations", {**body, "queue": "nope"}).status_code == 404
    assert post("/conversations", {**body, "channel": other}).get_json()["error"]["code"] == "not_email"
    assert post("/conversations", {**body, "subject": " "}).status_code == 400
    assert post("/conversations", {**body, "to": "a@b.org\r\nBcc: c@d.org"}).status_code == 400


def test_a_reply_from_a_macro_or_bulk_action_gets_the_copies_and_the_signature(app, token, received):
    """store_reply without email fields (as macros and bulk replies call it) copies the customer's Cc and signs."""
    conversation_id = received()
    with app.app_context():
        conversation = db.session.get(Conversation, conversation_id)
        conversation.queue.signature = "The team"
        agent = db.session.scalar(sa.select(Agent))
        message = store_reply(conversation, "Thanks!", agent)
        db.session.flush()
        details = message.raw["email"]
        assert details["kind"] == "reply" and details["signature"] == "The team"
        assert [a["address"] for a in details["cc"]] == ["bob@customer.example"] and details["bcc"] == []
        db.session.rollback()


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("../../x.png", PNG, ("x.png", "image/png")),
    ("C:\\Users\\eve\\evil\r\nX: y.pdf", b"%PDF-1.4", ("evil X: y.pdf", "application/pdf")),
    ("..", b"\xff\xfe\x00bin", ("attachment", "application/octet-stream")),
    ("a.html", "<script>é</script>".encode(), ("a.html", "text/plain")),
])
def test_an_agent_file_is_named_on_one_line_and_typed_by_its_bytes(name, data, expected):
    """Folders, CR LF and a declared type never reach the mail; the bytes decide the type."""
    (found,) = drafts.files([{"filename": name, "content_base64": base64.b64encode(data).decode()}])
    assert (found.filename, found.sniffed_type) == expected and found.data == data
