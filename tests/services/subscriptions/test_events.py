"""Outbound events: signed deliveries to a real local receiver that is down then up, retries, automatic
disabling, the refusal of private addresses, and events from changes, automations and the test button."""

import hashlib
import hmac
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from tests.services.test_admin import call  # noqa: F401  (fixture)
from tests.supervision import make_conversation
from workspace.extensions import db
from workspace.infra.broker import job_queue
from workspace.jobs.dispatch import sweep
from workspace.models import EventDelivery, Subscription
from workspace.services.subscriptions import delivery


class Receiver:
    """A real HTTP server on 127.0.0.1 that keeps what it is sent and answers `status`."""

    def __init__(self, port: int):
        self.port, self.received, self.status, self.server = port, [], 200, None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def receiver():
    """A receiver on a free port, not started yet (down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    found = Receiver(port)
    yield found
    found.stop()


def subscribe(call, url: str, events: list[str]) -> dict:  # noqa: F811
    response = call("post", "/subscriptions", json={"url": url, "events": events})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def deliveries(app) -> list[EventDelivery]:
    with app.app_context():
        rows = db.session.scalars(sa.select(EventDelivery).order_by(EventDelivery.id)).all()
        db.session.expunge_all()
        return rows


def attempt(app, delivery_id: int) -> str:
    with app.app_context():
        try:
            return delivery.deliver(delivery_id)
        except delivery.DeliveryFailed:
            return "retry"
        finally:
            db.session.remove()


def test_a_test_event_to_a_receiver_that_is_down_then_up_is_retried_then_delivered_signed(app, call, receiver):  # noqa: F811
    """The ping fails while the receiver is down (kept pending, to be retried), then arrives signed once it is up;
    the log shows both attempts."""
    subscription = subscribe(call, receiver.url, ["conversation.updated"])
    queued = call("post", f"/subscriptions/{subscription['id']}/test")
    assert queued.status_code == 202 and queued.get_json()["event"] == "ping"
    delivery_id = queued.get_json()["id"]
    assert attempt(app, delivery_id) == "retry"
    [row] = deliveries(app)
    assert (row.state, row.attempts) == ("pending", 1) and "ConnectionError" in row.error
    receiver.start()
    assert attempt(app, delivery_id) == "delivered"
    [(headers, body)] = receiver.received
    stamp = headers["X-Switchboard-Timestamp"]
    expected = hmac.new(subscription["secret"].encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Switchboard-Signature"] == f"sha256={expected}"
    assert headers["X-Switchboard-Event"] == "ping" and headers["X-Switchboard-Delivery"] == str(delivery_id)
    assert json.loads(body)["data"] == {"message": "a test event from Switchboard"}
    [logged] = call("get", f"/subscriptions/{subscription['id']}/deliveries").get_json()["data"]
    assert (logged["state"], logged["attempts"], logged["response_status"]) == ("delivered", 2, 200)
    assert attempt(app, delivery_id) == "delivered" and len(receiver.received) == 1  # never twice


def test_repeated_failures_disable_the_subscription_until_an_admin_enables_it(app, call, receiver):  # noqa: F811
    """Answering 500 three times in a row (the limit here) disables it with the reason; enabling resets it."""
    app.config["SUBSCRIPTION_DISABLE_AFTER"] = 3
    receiver.status = 500
    receiver.start()
    subscription = subscribe(call, receiver.url, ["ping"])
    ids = [call("post", f"/subscriptions/{subscription['id']}/test").get_json()["id"] for _ in range(2)]
    assert [attempt(app, ids[0]), attempt(app, ids[1])] == ["retry", "retry"]
    assert attempt(app, ids[0]) == "failed"
    shown = call("get", f"/subscriptions/{subscription['id']}").get_json()
    assert shown["enabled"] is False and "disabled after 3 failed attempts: answered 500" in shown["disabled_reason"]
    assert attempt(app, ids[1]) == "failed" and len(receiver.received) == 3
    assert call("post", f"/subscriptions/{subscription['id']}/test").status_code == 409
    enabled = call("patch", f"/subscriptions/{subscription['id']}", json={"enabled": True}).get_json()
    assert (enabled["enabled"], enabled["consecutive_failures"], enabled["disabled_reason"]) == (True, 0, None)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/x", "http://169.254.169.254/latest/meta-data",
                                 "http://10.1.2.3/", "http://[::1]/", "http://localhost/", "ftp://example.com/",
                                 "http:///nohost"])
def test_private_loopback_and_odd_targets_are_refused(app, call, url):  # noqa: F811
    """Outside tests' own setting, no URL on a private, loopback or link-local address (nor a non-http one)."""
    app.config["SUBSCRIPTION_ALLOW_PRIVATE"] = False
    response = call("post", "/subscriptions", json={"url": url, "events": ["ping"]})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_url"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Subscription)) == 0


def test_a_delivery_is_refused_at_send_time_when_its_target_turned_private(app, call, receiver):  # noqa: F811
    """The check runs again before each attempt: a target now private is a failed attempt, nothing is sent."""
    receiver.start()
    subscription = subscribe(call, receiver.url, ["ping"])
    delivery_id = call("post", f"/subscriptions/{subscription['id']}/test").get_json()["id"]
    app.config["SUBSCRIPTION_ALLOW_PRIVATE"] = False
    assert attempt(app, delivery_id) == "retry"
    assert receiver.received == [] and "private" in deliveries(app)[0].error


def test_changes_become_events_and_a_real_worker_delivers_them(app, call, receiver, run_jobs):  # noqa: F811
    """An agent resolving a conversation records conversation.updated and conversation.resolved for the
    subscriber (not message.created, which it did not ask for); a real RQ worker delivers both."""
    receiver.start()
    subscribe(call, receiver.url, ["conversation.updated", "conversation.resolved"])
    with app.app_context():
        conversation_id = make_conversation("billing")
    assert call("patch", f"/conversations/{conversation_id}", json={"status": "resolved"}).status_code == 200
    assert sorted(d.event for d in deliveries(app)) == ["conversation.resolved", "conversation.updated"]
    run_jobs()
    assert sorted(d.state for d in deliveries(app)) == ["delivered", "delivered"]
    sent = sorted((json.loads(body)["event"], json.loads(body)["data"]["conversation"]["status"])
                  for _, body in receiver.received)
    assert sent == [("conversation.resolved", "resolved"), ("conversation.updated", "resolved")]


def test_resolved_is_sent_when_a_conversation_becomes_resolved_only(app, call, receiver):  # noqa: F811
    """conversation.resolved follows the change into resolved: not a tag change on a resolved conversation,
    not resolving it again; reopened and resolved once more, it is sent again."""
    subscribe(call, receiver.url, ["conversation.resolved"])
    with app.app_context():
        conversation_id = make_conversation("billing")
    path = f"/conversations/{conversation_id}"
    assert call("patch", path, json={"status": "resolved"}).status_code == 200
    assert call("patch", path, json={"tags": ["refund"]}).status_code == 200
    assert call("patch", path, json={"status": "resolved"}).status_code == 200
    assert [d.event for d in deliveries(app)] == ["conversation.resolved"]
    assert call("patch", path, json={"status": "open"}).status_code == 200
    assert call("patch", path, json={"status": "resolved"}).status_code == 200
    assert [d.event for d in deliveries(app)] == ["conversation.resolved"] * 2


def test_an_opened_incident_is_an_event(app, call, receiver):  # noqa: F811
    """incident.opened carries the incident as the API shows it."""
    subscribe(call, receiver.url, ["incident.opened"])
    created = call("post", "/incidents", json={"title": "Checkout is down"})
    assert created.status_code == 201, created.get_json()
    [opened] = deliveries(app)
    assert opened.event == "incident.opened"
    assert opened.payload["incident"]["title"] == "Checkout is down"
    assert opened.payload["incident"]["id"] == created.get_json()["id"]


def test_the_sweeper_sends_again_a_delivery_whose_job_redis_lost(app, call, receiver, run_jobs):  # noqa: F811
    """A recorded delivery whose job is gone (Redis emptied) is enqueued again by the sweep once past the grace
    period, not before, and a real worker delivers it once."""
    receiver.start()
    subscribe(call, receiver.url, ["conversation.updated"])
    with app.app_context():
        conversation_id = make_conversation("billing")
    assert call("patch", f"/conversations/{conversation_id}", json={"status": "pending"}).status_code == 200
    [recorded] = deliveries(app)
    with app.app_context():
        job_queue().empty()
        assert sweep(grace_seconds=3600) == 0
        db.session.remove()
    run_jobs()
    assert [d.state for d in deliveries(app)] == ["pending"] and receiver.received == []
    with app.app_context():
        sweep(grace_seconds=0)
        db.session.remove()
    run_jobs()
    [delivered] = deliveries(app)
    assert (delivered.id, delivered.state, delivered.attempts) == (recorded.id, "delivered", 1)
    assert len(receiver.received) == 1
