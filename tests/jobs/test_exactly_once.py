"""Two web processes and two workers on PostgreSQL, as the Procfile runs them: every conversation is
announced once and the volume counts equal the messages, however the processes interleave."""

import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from tests.factories import SECRET, drained, make_post, running_many
from workspace.channels.signature import sign
from workspace.extensions import db
from workspace.models import Conversation, Message, VolumeCount
from workspace.models.counts import queue_counts

POSTS = 300
SENDERS = 4  # concurrent senders: enough to interleave both web processes, small enough for a shared box


def send(session: requests.Session, base: str, post: dict) -> int:
    """Post one signed webhook to a web process; returns the conversation id."""
    body = json.dumps(post).encode()
    response = session.post(f"{base}/webhooks/forum", data=body, timeout=30, headers={
        "Content-Type": "application/json", "X-Switchboard-Signature": sign(SECRET, body)})
    assert response.status_code == 202, response.text
    return response.json()["conversation_id"]


def announced(listener) -> list[int]:
    """Conversation ids of every conversation.created the listener got so far."""
    ids = []
    while (message := listener.get_message(timeout=0.5)) is not None:
        event = json.loads(message["data"])
        if event.get("event") == "conversation.created":
            (payload,) = event["data"]
            ids.extend(c["id"] for c in payload["conversations"])
    return ids


@pytest.mark.slow
@pytest.mark.postgresql
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_web_processes_and_two_workers_route_each_conversation_once(app, channel, redis, redis_url, tmp_path):
    """Posts sent alternately to two web processes, routed by two workers: one conversation.created per
    conversation, volume counts equal to the inbound messages, queue counts equal to the open rows."""
    listener = redis.pubsub(ignore_subscribe_messages=True)
    listener.subscribe("flask-socketio")
    # A short poll makes both web processes' dispatchers sweep the outbox often, so they overlap.
    with running_many(app, redis_url, tmp_path, webs=2, workers=2, SWITCHBOARD_DISPATCH_POLL_SECONDS="0.05",
                      SWITCHBOARD_DISPATCH_BATCH="20") as bases:
        posts = [make_post(author={"id": f"customer{n}", "handle": f"c{n}"}) for n in range(POSTS)]
        sessions = [requests.Session() for _ in bases]
        with ThreadPoolExecutor(SENDERS) as pool:
            sent = list(pool.map(lambda n: send(sessions[n % 2], bases[n % 2], posts[n]), range(POSTS)))
        assert len(set(sent)) == POSTS  # one conversation per customer
        seen = []
        deadline = time.monotonic() + 120
        while not drained(app) and time.monotonic() < deadline:
            seen += announced(listener)
        assert drained(app), "the workers did not route every post within two minutes"
        time.sleep(1)  # events published just before the last commit was seen
        seen += announced(listener)
    listener.close()
    doubled = [cid for cid, times in Counter(seen).items() if times > 1]
    assert not doubled, f"{len(doubled)} conversations were announced more than once"
    assert sorted(seen) == sorted(sent)
    with app.app_context():
        inbound = db.session.scalar(sa.select(sa.func.count()).select_from(Message)
                                    .where(Message.direction == "inbound"))
        counted = db.session.scalar(sa.select(sa.func.sum(VolumeCount.posts)).where(VolumeCount.kind == "queue"))
        assert inbound == counted == POSTS
        open_rows = dict(db.session.execute(
            sa.select(Conversation.queue_id, sa.func.count()).where(Conversation.status == "open")
            .group_by(Conversation.queue_id)).all())
        kept = queue_counts(sorted(open_rows))
        assert {queue_id: counts["open"] for queue_id, counts in kept.items()} == open_rows
        db.session.remove()
    for session in sessions:
        session.close()
