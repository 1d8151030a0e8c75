"""Web Push through a local RFC 8030 push service: what the phone shows, devices that are gone or hang,
bursts collapsed under the per-minute cap, revocation, and endpoints refused as server-side request forgery."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from tests.factories import make_post
from tests.push_service import PushService
from tests.services.notifications.conftest import billing_conversation, call
from workspace.extensions import db
from workspace.jobs.dispatch import dispatch_once
from workspace.live import presence
from workspace.models import PushSubscription, queue_members
from workspace.services.notifications import triggers
from workspace.services.triage import decisions


@pytest.fixture
def push_service():
    service = PushService()
    yield service
    service.close()


def subscribe(client, team, who, device):
    response = call(client, team, who, "post", "/push/devices", json=device.subscription())
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_an_assignment_reaches_the_phone_and_dead_devices_do_not_stop_the_worker(app, client, team, push_service,
                                                                                 run_jobs):
    """Bo's phone shows "Assigned to you" tagged with the conversation and opening it; no customer words; a
    device the push service forgot (410) is removed, one that hangs is given up on, and the phone still gets it."""
    app.config["PUSH_TIMEOUT_SECONDS"] = 0.5
    phone = push_service.device("phone")
    gone, hanging = push_service.device("old-laptop", 410), push_service.device("tablet", "hang")
    for device in (hanging, gone, phone):
        subscribe(client, team, "bo", device)
    key = call(client, team, "bo", "get", "/push/key").get_json()["public_key"]
    assert len(key) == 87  # base64url of a 65-byte uncompressed P-256 point
    conversation_id = billing_conversation(app, text="my card number is secret")
    call(client, team, "ann", "patch", f"/conversations/{conversation_id}", json={"assignee": team["bo"][0]})
    run_jobs()
    [shown] = phone.received
    assert shown["tag"] == shown["topic"] == f"conversation-{conversation_id}"
    assert shown["url"] == f"/conversations/{conversation_id}" and shown["renotify"] is True
    assert shown["title"].startswith("Assigned to you by Ann") and shown["body"] == ""
    assert push_service.refused == []
    devices = {d["label"]: d for d in call(client, team, "bo", "get", "/push/devices").get_json()["data"]}
    assert set(devices) == {"phone", "tablet"}  # the 410 one is gone
    assert devices["tablet"]["last_error"] and devices["phone"]["last_sent_at"]
    assert call(client, team, "bo", "delete", f"/push/devices/{devices['phone']['id']}").status_code == 204
    assert call(client, team, "ann", "delete", f"/push/devices/{devices['tablet']['id']}").status_code == 404


def test_a_burst_of_500_urgent_posts_is_one_notification_that_says_500(app, client, team, push_service, deliver,
                                                                       run_jobs):
    """500 urgent posts at once: Ann's phone shows one notification, saying 500, from no more pushes than
    the per-minute cap; with the cap reached, what follows waits for the periodic run."""
    phone = push_service.device("ann-phone")
    subscribe(client, team, "ann", phone)
    posts = [make_post(text=f"I was charged twice, order {n}", author={"id": f"b{n}", "handle": f"b{n}", "name": "B"})
             for n in range(500)]
    assert deliver(posts).status_code == 202
    with app.app_context():
        dispatch_once(500)
    run_jobs()
    shown = phone.shown()
    assert list(shown) == ["summary"] and shown["summary"]["title"] == "500 urgent conversations waiting"
    assert shown["summary"]["url"] == "/" and 1 <= len(phone.received) <= app.config["PUSH_PER_MINUTE"]


def test_a_push_respects_quiet_hours_and_muted_queues(app, client, team, push_service, run_jobs):
    """Quiet hours all day hold Bo's push back (it stays in his list); a muted queue too."""
    phone = push_service.device("bo-phone")
    subscribe(client, team, "bo", phone)
    settings = call(client, team, "bo", "patch", "/notifications/settings",
                    json={"quiet_start": "00:00", "quiet_end": "23:59", "time_zone": "Europe/Paris"})
    assert settings.status_code == 200 and settings.get_json()["quiet_start"] == "00:00"
    first = billing_conversation(app)
    call(client, team, "ann", "patch", f"/conversations/{first}", json={"assignee": team["bo"][0]})
    run_jobs()
    assert phone.received == []  # in the list, not on the phone
    assert call(client, team, "bo", "get", "/notifications").get_json()["unread"] == 1
    bad = call(client, team, "bo", "patch", "/notifications/settings", json={"time_zone": "Mars/Olympus"})
    assert bad.status_code == 400
    call(client, team, "bo", "patch", "/notifications/settings", json={"quiet_start": None, "quiet_end": None,
                                                                      "muted_queues": ["billing"]})
    second = billing_conversation(app)
    call(client, team, "ann", "patch", f"/conversations/{second}", json={"assignee": team["bo"][0]})
    run_jobs()
    assert phone.received == []


@pytest.mark.parametrize("endpoint", [
    "http://push.example.com/x", "https://127.0.0.1/x", "https://10.1.2.3/x", "https://[::1]/x",
    "https://169.254.169.254/latest", "https://user:pw@example.com/x"])
def test_endpoints_inside_the_network_or_not_https_are_refused(app, client, team, push_service, endpoint):
    """Outside tests (local endpoints not allowed), a subscription must be https to a public address."""
    app.config["PUSH_ALLOW_LOCAL_ENDPOINTS"] = False
    body = {**push_service.device("x").subscription(), "endpoint": endpoint}
    response = call(client, team, "bo", "post", "/push/devices", json=body)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "unsafe_endpoint"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PushSubscription)) == 0


def test_the_vapid_key_pair_is_made_once_at_set_up(app, runner, tmp_path):
    """`flask push keys` makes the key file once (a second run keeps it) and prints the public key."""
    app.config["VAPID_KEY_FILE"] = str(tmp_path / "vapid.pem")
    first = runner.invoke(args=["push", "keys"])
    pem = (tmp_path / "vapid.pem").read_bytes()
    second = runner.invoke(args=["push", "keys"])
    assert first.exit_code == second.exit_code == 0 and first.output == second.output
    assert (tmp_path / "vapid.pem").read_bytes() == pem and b"PRIVATE KEY" in pem
    assert (tmp_path / "vapid.pem").stat().st_mode & 0o077 == 0


def test_no_push_while_active_in_the_console_if_asked_nor_after_leaving_the_queue(app, client, team, push_service,
                                                                                 deliver, run_jobs):
    """Bo asked for pushes only when away: with his console online nothing is pushed. An urgent post tells Ann and
    Bo; Ann, removed from billing before her push goes out, gets none (the list still has it), Bo gets his."""
    ann_phone, bo_phone = push_service.device("ann"), push_service.device("bo")
    subscribe(client, team, "ann", ann_phone)
    subscribe(client, team, "bo", bo_phone)
    call(client, team, "bo", "patch", "/notifications/settings", json={"only_when_away": True})
    with app.app_context():
        presence.agent_connected(team["bo"][0])
    call(client, team, "ann", "patch", f"/conversations/{billing_conversation(app)}", json={"assignee": team["bo"][0]})
    run_jobs()
    assert bo_phone.received == []
    with app.app_context():
        presence.agent_disconnected(team["bo"][0])
    conversation_id = deliver(make_post(text="charged twice again", author={"id": "q", "handle": "q", "name": "Q"})
                              ).get_json()["conversation_id"]
    with app.app_context():
        decisions.route_conversations([conversation_id])  # in this process: its notify job waits in the queue
        assert triggers.notify("routed", [conversation_id]) == 2  # told now; the pushes wait for the worker
        db.session.execute(sa.delete(queue_members).where(queue_members.c.agent_id == team["ann"][0]))
        db.session.commit()
        db.session.remove()
    run_jobs()
    assert ann_phone.received == [] and [p["kind"] for p in bo_phone.received] == ["urgent"]
    assert call(client, team, "ann", "get", "/notifications").get_json()["unread"] == 1


def test_a_slack_compatible_webhook_gets_the_same_notifications(app, client, team, run_jobs):
    """Bo's incoming webhook gets `{"text": ...}` with the title and the console's link; one inside the network
    is refused where local endpoints are not allowed."""
    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the standard library's name
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/services/T000/B000/xyz"
        assert call(client, team, "bo", "patch", "/notifications/settings", json={"webhook_url": url}
                    ).get_json()["webhook_url"] == url
        conversation_id = billing_conversation(app)
        call(client, team, "ann", "patch", f"/conversations/{conversation_id}", json={"assignee": team["bo"][0]})
        run_jobs()
    finally:
        server.shutdown()
        server.server_close()
    [message] = received
    assert message["text"].startswith("Assigned to you by Ann")
    assert f"/conversations/{conversation_id}|open in Switchboard>" in message["text"]
    app.config["PUSH_ALLOW_LOCAL_ENDPOINTS"] = False
    refused = call(client, team, "bo", "patch", "/notifications/settings", json={"webhook_url": url})
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "unsafe_endpoint"
