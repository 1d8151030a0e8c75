"""Notifications by email through a local SMTP relay: opting in and out, the address, the customer's words only
when asked for, quiet hours, a burst folded into one mail, and names that try to add headers."""

from email import message_from_bytes, policy

import pytest

from tests.channels.email.conftest import capturing_relay
from tests.factories import make_post
from tests.services.notifications.conftest import billing_conversation, call
from workspace.extensions import db
from workspace.jobs.dispatch import dispatch_once
from workspace.models import Agent


@pytest.fixture
def relay(app):
    """A real SMTP server on a free port, set as the notification relay: relay.received."""
    with capturing_relay() as capture:
        app.config.update(NOTIFY_SMTP_HOST="127.0.0.1", NOTIFY_SMTP_PORT=capture.port,
                          NOTIFY_MAIL_FROM="Switchboard <switchboard@example.test>")
        yield capture


@pytest.fixture(autouse=True)
def no_cap_left(redis):
    """Start and leave with no agent's per-minute cap counted (the counters outlive each test's app, and these
    tests mail the same agent ids often enough to cap the tests after them)."""
    for key in redis.scan_iter("switchboard:push:cap:*"):
        redis.delete(key)
    yield
    for key in redis.scan_iter("switchboard:push:cap:*"):
        redis.delete(key)


def mails(relay):
    """What the relay received: (envelope recipients, parsed message) each."""
    return [(to, message_from_bytes(data, policy=policy.default)) for _, to, data in relay.received]


def assign(app, client, team, to, **conversation):
    conversation_id = billing_conversation(app, **conversation)
    response = call(client, team, "ann", "patch", f"/conversations/{conversation_id}", json={"assignee": team[to][0]})
    assert response.status_code == 200, response.get_json()
    return conversation_id


def test_an_agent_who_opts_in_is_mailed_and_one_who_opts_out_is_not(app, client, team, relay, run_jobs):
    """Bo opted in: his own address gets the title and the conversation's link, marked as sent by a machine,
    without the customer's words; with them asked for and another address, that address gets them; opted out
    (and Ann, who never opted in) gets nothing."""
    settings = call(client, team, "bo", "patch", "/notifications/settings", json={"email_enabled": True})
    assert settings.status_code == 200
    assert settings.get_json()["email_enabled"] is True and settings.get_json()["email_address"] is None
    first = assign(app, client, team, "bo", text="my card number is 4242")
    run_jobs()
    [(to, mail)] = mails(relay)
    assert to == ["bo@example.com"] and mail["To"] == "bo@example.com"
    assert mail["Subject"] == f"[Switchboard] Assigned to you by Ann: #{first} in Billing"
    assert mail["Auto-Submitted"] == "auto-generated" and mail["From"].addresses[0].username == "switchboard"
    body = mail.get_content()
    assert f"{app.config['PUBLIC_URL']}/conversations/{first}" in body and "4242" not in body

    call(client, team, "bo", "patch", "/notifications/settings",
         json={"email_address": "bo.pager@example.org", "include_text": True})
    second = assign(app, client, team, "bo", text="charged twice for order 77")
    run_jobs()
    to, mail = mails(relay)[-1]
    assert to == ["bo.pager@example.org"] and f"#{second}" in mail["Subject"]
    assert "charged twice for order 77" in mail.get_content()

    call(client, team, "bo", "patch", "/notifications/settings", json={"email_enabled": False})
    assign(app, client, team, "bo")
    assign(app, client, team, "ann")  # Ann assigns to herself: no notification; Bo assigns to her below
    conversation_id = billing_conversation(app)
    call(client, team, "bo", "patch", f"/conversations/{conversation_id}", json={"assignee": team["ann"][0]})
    run_jobs()
    assert len(relay.received) == 2
    assert call(client, team, "bo", "get", "/notifications").get_json()["unread"] == 3  # still in his list


@pytest.mark.parametrize("address", ["not an address", "bo@example.com\r\nBcc: eve@example.net",
                                     "<bo@example.com>", "bo@example..com", "a" * 250 + "@example.com", 42])
def test_an_address_that_is_not_one_mailbox_is_refused(client, team, address):
    response = call(client, team, "bo", "patch", "/notifications/settings",
                    json={"email_enabled": True, "email_address": address})
    assert response.status_code == 400 and response.get_json()["error"]
    assert call(client, team, "bo", "get", "/notifications/settings").get_json()["email_enabled"] is False
    trimmed = call(client, team, "bo", "patch", "/notifications/settings", json={"email_address": "bo@example.com\n"})
    assert trimmed.status_code == 200 and trimmed.get_json()["email_address"] == "bo@example.com"


def test_quiet_hours_hold_the_mail_back(app, client, team, relay, run_jobs):
    """Quiet hours all day: Bo's notification is in his list, not in his mailbox."""
    call(client, team, "bo", "patch", "/notifications/settings",
         json={"email_enabled": True, "quiet_start": "00:00", "quiet_end": "23:59", "time_zone": "UTC"})
    assign(app, client, team, "bo")
    run_jobs()
    assert relay.received == []
    assert call(client, team, "bo", "get", "/notifications").get_json()["unread"] == 1


def test_a_burst_of_urgent_posts_is_one_mail_that_says_how_many(app, client, team, relay, deliver, run_jobs):
    """200 urgent posts at once reach Ann's mailbox as one summary mail, not 200."""
    call(client, team, "ann", "patch", "/notifications/settings", json={"email_enabled": True})
    posts = [make_post(text=f"I was charged twice, order {n}", author={"id": f"b{n}", "handle": f"b{n}", "name": "B"})
             for n in range(200)]
    assert deliver(posts).status_code == 202
    with app.app_context():
        dispatch_once(200)
    run_jobs()
    received = mails(relay)
    assert [to for to, _ in received] == [["ann@example.com"]]
    assert received[0][1]["Subject"] == "[Switchboard] 200 urgent conversations waiting"
    assert f"Open in Switchboard: {app.config['PUBLIC_URL']}/" in received[0][1].get_content().splitlines()


def test_names_cannot_add_headers(app, client, team, relay, run_jobs):
    """An agent named with a line break and a header after it: the mail goes to Bo alone, with no such header."""
    with app.app_context():
        db.session.get(Agent, team["ann"][0]).name = "Ann\r\nBcc: eve@example.net"
        db.session.commit()
    call(client, team, "bo", "patch", "/notifications/settings", json={"email_enabled": True})
    assign(app, client, team, "bo")
    run_jobs()
    [(to, mail)] = mails(relay)
    assert to == ["bo@example.com"] and mail["Bcc"] is None
    assert "\n" not in mail["Subject"] and "Bcc: eve@example.net" in mail["Subject"]


def test_no_relay_configured_sends_nothing_and_keeps_the_list(app, client, team, run_jobs):
    call(client, team, "bo", "patch", "/notifications/settings", json={"email_enabled": True})
    assign(app, client, team, "bo")
    run_jobs()
    assert call(client, team, "bo", "get", "/notifications").get_json()["unread"] == 1
