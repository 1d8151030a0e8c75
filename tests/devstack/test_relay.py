"""The demo's outbound relay: the demo's channels are of each real kind, and their replies reach the relay in each
kind's own protocol (Discourse's API, signed callbacks) through the real delivery job, so they show "sent"."""

import threading

import pytest
import requests
import sqlalchemy as sa

from devstack.localredis import free_port
from devstack.relay import serve
from workspace.extensions import db
from workspace.models import Channel, Conversation, Message

KEY = "relay-test-key"


@pytest.fixture
def relay(tmp_path):
    """The relay on free ports, serving in a thread; yields (base URL, smtp port, its deliveries)."""
    smtp_port = free_port()
    server, controller, deliveries = serve(0, smtp_port, tmp_path / "relay.jsonl", KEY)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", smtp_port, deliveries
    finally:
        server.shutdown()
        server.server_close()
        controller.stop()


def test_demo_channels_are_of_each_real_kind_and_their_replies_reach_the_relay(app, runner, run_jobs, client,
                                                                                token, relay, tmp_path):
    """Seeded against the relay: forum (Discourse), X mentions (x), in-app (native) and a Khoros community; a reply
    in one conversation of each is delivered by the worker to the relay (a post in the forum topic, a signed
    callback per other kind) and is marked sent, not skipped."""
    url, smtp_port, deliveries = relay
    result = runner.invoke(args=["seed", "--posts", "60", "--relay", url, "--relay-key", KEY,
                                 "--relay-smtp-port", str(smtp_port)])
    assert result.exit_code == 0, result.output
    run_jobs()
    with app.app_context():
        kinds = dict(db.session.execute(sa.select(Channel.slug, Channel.kind)).all())
        assert kinds == {"forum": "discourse", "x": "x", "app": "native", "community": "khoros", "mail": "email"}
        assert db.session.scalar(sa.select(Channel.settings).where(Channel.slug == "mail"))["smtp_port"] == smtp_port
        chosen = {slug: db.session.scalar(sa.select(Conversation.id).join(Channel).where(Channel.slug == slug)
                                          .order_by(Conversation.id).limit(1))
                  for slug in ("forum", "x", "app", "community")}
    replies = {}
    for slug, conversation_id in chosen.items():
        response = client.post(f"/api/v1/conversations/{conversation_id}/replies", json={"text": f"Hello from {slug}"},
                               headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.get_json()
        replies[slug] = response.get_json()["id"]
    run_jobs()
    with app.app_context():
        statuses = {slug: db.session.get(Message, id_).delivery_status for slug, id_ in replies.items()}
        forum_url = db.session.get(Message, replies["forum"]).url
    assert statuses == dict.fromkeys(replies, "sent")
    forum = [entry for entry in deliveries.entries if entry["protocol"] == "discourse"]
    assert [entry["post"]["raw"].split("\n")[0] for entry in forum] == ["Hello from forum"]
    assert forum_url.startswith(f"{url}/discourse/t/")
    callbacks = {entry["channel"]: entry for entry in deliveries.entries if entry["protocol"] == "callback"}
    assert set(callbacks) == {"x", "app", "community"}
    assert all(entry["signature"].startswith("sha256=") and entry["idempotency_key"] for entry in callbacks.values())
    assert callbacks["x"]["body"]["reply"]["text"] == "Hello from x"
    assert len((tmp_path / "relay.jsonl").read_text().splitlines()) == 4


def test_the_relay_refuses_a_forum_call_without_the_api_key(relay):
    """Like Discourse, the relay answers 403 to an API call without the key it was given."""
    url, _, deliveries = relay
    response = requests.post(f"{url}/discourse/posts.json", json={"topic_id": 1, "raw": "hi"},
                             headers={"Api-Key": "wrong", "Api-Username": "switchboard"}, timeout=5)
    assert response.status_code == 403 and deliveries.entries == []
