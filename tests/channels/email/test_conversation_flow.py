"""The done-when flow: mail in over SMTP, routed; the agent's reply out over SMTP, threaded; the customer's
answer joins; an out-of-office reply is stored but never answered. Real listener, relay, worker and Redis."""

from email import message_from_bytes, policy

import sqlalchemy as sa

from tests.channels.email.conftest import ADDRESS, send
from tests.channels.email.mail import plain
from workspace.channels.email.addresses import reply_address
from workspace.extensions import db
from workspace.jobs.dispatch import dispatch_once
from workspace.models import Channel, Conversation, Message, Rule, SuspendedEmail
from workspace.services.conversations import delivery


def conversation_of(app, external_id: str) -> int:
    """The conversation a stored message belongs to."""
    with app.app_context():
        found = db.session.scalar(sa.select(Message.conversation_id).where(Message.external_id == external_id))
        db.session.remove()
        return found


def test_mail_in_reply_out_answer_joins_and_out_of_office_is_never_answered(
        app, client, token, listener, relay, run_jobs):
    """The whole email round trip, threaded by the headers mail clients really send."""
    send(listener, plain(subject="Charged twice for my order", text="I was charged twice, please refund."))
    with app.app_context():
        assert dispatch_once(100)
    run_jobs()  # routing
    conversation_id = conversation_of(app, "m1@customer.example")
    with app.app_context():
        conversation = db.session.get(Conversation, conversation_id)
        assert conversation.status == "open" and conversation.queue is not None

    reply = client.post(f"/api/v1/conversations/{conversation_id}/replies", json={"text": "Refunded.\n\nAda"},
                        headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 201, reply.get_json()
    run_jobs()  # delivery over SMTP
    (mail_from, recipients, sent), = relay.received
    assert (mail_from, recipients) == (ADDRESS, ["ann@customer.example"])
    ours = message_from_bytes(sent, policy=policy.default)
    assert ours["In-Reply-To"] == "<m1@customer.example>"
    assert ours["References"] == "<m1@customer.example>"
    assert ours["Subject"] == f"Re: Charged twice for my order [#{conversation_id}]"
    assert ours["To"] == "Ann Customer <ann@customer.example>"
    assert ours["Auto-Submitted"] is None  # a person wrote it
    with app.app_context():
        assert ours["Reply-To"] == reply_address(db.session.get(Channel, 1), conversation_id)
    assert ours.get_body(("plain",)).get_content().replace("\r\n", "\n").strip() == "Refunded.\n\nAda"
    assert "<p>Refunded.</p>" in ours.get_body(("html",)).get_content()
    our_id = ours["Message-ID"].strip("<>")
    assert our_id.endswith("@example.test")

    answer = plain(subject=f"Re: Charged twice for my order [#{conversation_id}]", message_id="<m2@customer.example>",
                   text="Thank you!\n\nOn Sun, Dec 6, 2026 Support wrote:\n> Refunded.",
                   headers={"In-Reply-To": f"<{our_id}>", "References": f"<m1@customer.example> <{our_id}>"})
    send(listener, answer)
    assert conversation_of(app, "m2@customer.example") == conversation_id

    out_of_office = plain(sender="ann@customer.example", subject="Automatic reply: Re: Charged twice",
                          message_id="<ooo@customer.example>", text="I am out of the office until Monday.",
                          headers={"Auto-Submitted": "auto-replied", "In-Reply-To": f"<{our_id}>"})
    send(listener, out_of_office)
    run_jobs()
    assert conversation_of(app, "ooo@customer.example") == conversation_id
    with app.app_context():
        stored = db.session.scalar(sa.select(Message).where(Message.external_id == "ooo@customer.example"))
        assert stored.raw["email"]["automatic"] == "Auto-Submitted: auto-replied"
        automatic = Message(conversation_id=conversation_id, channel_id=stored.channel_id, direction="outbound",
                            text="We got your message.", delivery_status="queued")
        db.session.add(automatic)
        db.session.commit()
        assert delivery.deliver_reply(automatic.id) == "skipped"
        assert "sent by a machine" in db.session.get(Message, automatic.id).delivery_error
    assert len(relay.received) == 1  # only the agent's reply ever went out


def test_a_reply_token_threads_mail_whose_client_dropped_the_headers(app, listener):
    """Mail to reply+<token>@ joins the conversation; a forged token does not."""
    send(listener, plain())
    conversation_id = conversation_of(app, "m1@customer.example")
    with app.app_context():
        token_address = reply_address(db.session.get(Channel, 1), conversation_id)
    send(listener, plain(message_id="<t1@customer.example>", subject="different subject"), to=(token_address,))
    assert conversation_of(app, "t1@customer.example") == conversation_id
    forged = token_address.replace(token_address.split(".")[1][:4], "0000", 1)
    send(listener, plain(message_id="<t2@customer.example>"), to=(forged,))
    assert conversation_of(app, "t2@customer.example") != conversation_id


def test_a_subject_tag_threads_only_a_participant(app, listener):
    """[#id] joins the customer's own mail to the conversation; a stranger's mail with it starts a new one."""
    send(listener, plain())
    conversation_id = conversation_of(app, "m1@customer.example")
    tagged = f"Re: Help, please [#{conversation_id}]"
    send(listener, plain(message_id="<p1@customer.example>", subject=tagged))
    assert conversation_of(app, "p1@customer.example") == conversation_id
    send(listener, plain(sender="mallory@elsewhere.example", message_id="<s1@elsewhere.example>", subject=tagged),
         sender="mallory@elsewhere.example")
    assert conversation_of(app, "s1@elsewhere.example") != conversation_id
    same_subject = plain(sender="bob@elsewhere.example", message_id="<s2@elsewhere.example>")
    send(listener, same_subject, sender="bob@elsewhere.example")
    assert conversation_of(app, "s2@elsewhere.example") != conversation_id


def test_new_mail_from_the_same_customer_without_thread_headers_is_a_new_conversation(app, listener):
    """Email never threads by author and time alone: a new message is a new conversation."""
    send(listener, plain())
    send(listener, plain(message_id="<other@customer.example>", subject="A different problem"))
    assert conversation_of(app, "m1@customer.example") != conversation_of(app, "other@customer.example")


def test_the_recipient_mailbox_routes_mail_to_its_queue(app, listener, run_jobs):
    """A rule on recipient "billing" sends mail to billing@ (and billing+anything@) to the billing queue."""
    with app.app_context():
        db.session.add(Rule(position=1, name="billing mailbox", conditions={"recipient": "billing"},
                            actions={"queue": "billing", "stop": True}))
        db.session.commit()
    send(listener, plain(to="billing@example.test", text="Where is my invoice?"), to=("billing@example.test",))
    send(listener, plain(message_id="<tech@customer.example>", text="The app crashes."))
    with app.app_context():
        assert dispatch_once(100)
    run_jobs()
    with app.app_context():
        billing = db.session.get(Conversation, conversation_of(app, "m1@customer.example"))
        other = db.session.get(Conversation, conversation_of(app, "tech@customer.example"))
        assert billing.queue.slug == "billing"
        assert other.queue.slug != "billing"


def test_an_auto_responder_mailing_us_in_a_loop_is_never_answered_and_is_suspended(app, listener, relay):
    """Another auto-responder's mail is stored and flagged; past the flood limit it is suspended; nothing of
    ours that an automation writes goes back to it, so the loop stops."""
    app.config["EMAIL_FLOOD_MESSAGES"] = 5
    for number in range(8):
        send(listener, plain(sender="robot@vendor.example", message_id=f"<auto{number}@vendor.example>",
                             subject="Auto: ticket received", text="We received your message.",
                             headers={"Auto-Submitted": "auto-replied", "Precedence": "bulk"}),
             sender="robot@vendor.example")
    with app.app_context():
        stored = db.session.scalars(sa.select(Message).order_by(Message.id)).all()
        assert len(stored) == 5 and all(m.raw["email"]["automatic"] for m in stored)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SuspendedEmail)) == 3
        automatic = Message(conversation_id=stored[-1].conversation_id, channel_id=stored[-1].channel_id,
                            direction="outbound", text="Thanks for your message.", delivery_status="queued")
        db.session.add(automatic)
        db.session.commit()
        assert delivery.deliver_reply(automatic.id) == "skipped"
    assert relay.received == []


def test_automatic_mail_leaves_a_resolved_conversation_resolved_and_a_person_reopens_it(
        app, client, token, listener, relay, run_jobs):
    """An out-of-office answer to our reply is stored in the resolved conversation, which stays resolved, is not
    routed again and gets no reply; the customer's own answer afterwards re-opens it as before."""
    send(listener, plain(subject="Charged twice", text="I was charged twice."))
    with app.app_context():
        assert dispatch_once(100)
    run_jobs()
    conversation_id = conversation_of(app, "m1@customer.example")
    auth = {"Authorization": f"Bearer {token}"}
    assert client.post(f"/api/v1/conversations/{conversation_id}/replies", json={"text": "Refunded."},
                       headers=auth).status_code == 201
    run_jobs()
    ours = message_from_bytes(relay.received[0][2], policy=policy.default)["Message-ID"]
    resolved = client.patch(f"/api/v1/conversations/{conversation_id}", json={"status": "resolved"}, headers=auth)
    assert resolved.status_code == 200, resolved.get_json()
    with app.app_context():
        routed_before = db.session.get(Conversation, conversation_id).routed_message_id

    for number, headers in enumerate(({"Auto-Submitted": "auto-replied"}, {"X-Autoreply": "yes"},
                                      {"Precedence": "auto_reply"})):
        send(listener, plain(subject="Automatic reply: Re: Charged twice", message_id=f"<ooo{number}@customer.example>",
                             text="I am out of the office until Monday.", headers={"In-Reply-To": ours, **headers}))
        assert conversation_of(app, f"ooo{number}@customer.example") == conversation_id
    with app.app_context():
        dispatch_once(100)
    run_jobs()
    with app.app_context():
        conversation = db.session.get(Conversation, conversation_id)
        assert conversation.status == "resolved" and conversation.resolved_at is not None
        assert conversation.routed_message_id == routed_before  # not routed again
    assert len(relay.received) == 1  # nothing answered the out-of-office

    send(listener, plain(subject="Re: Charged twice", message_id="<m2@customer.example>",
                         text="It was charged a third time!", headers={"In-Reply-To": ours}))
    assert conversation_of(app, "m2@customer.example") == conversation_id
    with app.app_context():
        assert dispatch_once(100)
    run_jobs()
    with app.app_context():
        conversation = db.session.get(Conversation, conversation_id)
        assert conversation.status == "open" and conversation.resolved_at is None
        assert conversation.routed_message_id != routed_before


def test_automatic_mail_starting_a_conversation_is_routed(app, listener, run_jobs):
    """Automatic mail that joins nothing still opens its own conversation and is routed to a queue."""
    send(listener, plain(sender="robot@vendor.example", message_id="<robot@vendor.example>",
                         headers={"Auto-Submitted": "auto-generated"}), sender="robot@vendor.example")
    with app.app_context():
        assert dispatch_once(100)
    run_jobs()
    with app.app_context():
        conversation = db.session.get(Conversation, conversation_of(app, "robot@vendor.example"))
        assert conversation.status == "open" and conversation.queue is not None
