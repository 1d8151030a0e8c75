"""Replies go back where the post came from, once: a Discourse-compatible API and a callback receiver,
both real HTTP servers, reached by the delivery job (directly, and through a real RQ worker)."""

import dataclasses
from datetime import timedelta

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from tests.factories import SECRET, make_post
from tests.payloads import discourse_headers, discourse_post, encode
from tests.platforms import CallbackReceiver, FakeDiscourse, LiveServer
from workspace.extensions import db
from workspace.jobs import enqueue
from workspace.jobs.dispatch import sweep
from workspace.jobs.tasks import conversations
from workspace.models import Channel, Message, utcnow
from workspace.services.conversations import delivery


@pytest.fixture
def forum_server():
    """A Discourse-compatible server with topic 321, started by maya."""
    fake = FakeDiscourse()
    fake.add_topic(321, ("maya", "I was **charged twice** for March."))
    with LiveServer(fake.app) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def receiver():
    """A brand's relay that checks our signature and honours Idempotency-Key."""
    relay = CallbackReceiver(SECRET)
    with LiveServer(relay.app) as server:
        relay.url = f"{server.url}/replies"
        yield relay


@pytest.fixture
def reply_to(client, token):
    """Reply to a conversation through the API as Ada: reply_to(conversation_id, text) -> message id."""

    def reply_to(conversation_id: int, text: str = "Sorry about that, Maya: the refund is on its way.") -> int:
        response = client.post(f"/api/v1/conversations/{conversation_id}/replies", json={"text": text},
                               headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    return reply_to


@pytest.fixture
def topic_conversation(app, client, forum_server):
    """A Discourse channel pointed at the fake forum, and the conversation of topic 321 (by webhook)."""
    with app.app_context():
        db.session.add(Channel(slug="community", name="Community", kind="discourse", secret=SECRET, settings={
            "base_url": forum_server.url, "api_key": forum_server.api_key, "api_username": "switchboard"}))
        db.session.commit()
    body = encode(discourse_post())
    response = client.post("/webhooks/community", data=body, headers=discourse_headers(body, SECRET))
    return response.get_json()["conversation_id"]


def message(app, message_id: int) -> Message:
    with app.app_context():
        row = db.session.get(Message, message_id)
        db.session.expunge(row)
        return row


def deliver_now(app, message_id: int) -> str:
    with app.app_context():
        try:
            return delivery.deliver_reply(message_id)
        finally:
            db.session.remove()


def time_out_once_then_retry(app, server, message_id: int) -> None:
    """The server stores the first attempt but answers after the sender gave up (failed, retried);
    the retry must end sent."""
    app.config["DELIVERY_TIMEOUT_SECONDS"] = 0.5
    server.slow_next, server.slow_seconds = 1, 2.0
    with pytest.raises(Exception, match="(?i)timed out"):
        deliver_now(app, message_id)
    assert message(app, message_id).delivery_status == "failed"
    assert deliver_now(app, message_id) == "sent"


def ours(forum_server) -> list[dict]:
    return [p for p in forum_server.posts_in(321) if p["username"] == "switchboard"]


def test_a_reply_is_posted_in_its_topic_by_a_real_worker(app, api, forum_server, topic_conversation, reply_to,
                                                         run_jobs):
    """The worker posts the reply with the API key and user; the message shows sent, with the post's URL."""
    reply_to(topic_conversation)
    run_jobs()
    [posted] = ours(forum_server)
    assert posted["raw"].startswith("Sorry about that, Maya: the refund is on its way.")
    assert posted["reply_to_post_number"] is None  # answering the first post is answering the topic
    shown = api(f"/conversations/{topic_conversation}").get_json()["messages"][-1]
    assert shown["delivery_status"] == "sent" and shown["delivery_error"] is None
    assert shown["url"] == f"{forum_server.url}/t/topic-321/321/{posted['post_number']}"


def test_a_reply_to_a_later_post_answers_that_post(app, client, forum_server, topic_conversation, reply_to):
    """When the customer's latest post is #2, the reply is posted as a reply to post 2."""
    body = encode(discourse_post(id=1240, post_number=2, raw="Any news?"))
    client.post("/webhooks/community", data=body, headers=discourse_headers(body, SECRET))
    assert deliver_now(app, reply_to(topic_conversation)) == "sent"
    assert ours(forum_server)[0]["reply_to_post_number"] == 2


def test_an_attempt_that_timed_out_after_posting_is_not_posted_again(app, forum_server, topic_conversation,
                                                                     reply_to):
    """Discourse stores the post but answers too late; the retry finds the post by its marker and stops."""
    message_id = reply_to(topic_conversation)
    time_out_once_then_retry(app, forum_server, message_id)
    assert len(ours(forum_server)) == 1
    assert message(app, message_id).delivery_attempts == 2


def test_a_job_stopped_by_its_rq_timeout_after_posting_is_retried_without_a_second_post(
        app, forum_server, topic_conversation, reply_to, run_jobs, monkeypatch):
    """The real worker's job timeout cuts the attempt off while Discourse is still answering: the reply shows
    failed (will retry), and the retry finds the post instead of posting again."""
    spec = enqueue.JOBS[conversations.deliver_reply]
    monkeypatch.setitem(enqueue.JOBS, conversations.deliver_reply, dataclasses.replace(spec, timeout=1))
    app.config["DELIVERY_TIMEOUT_SECONDS"] = 10.0
    forum_server.slow_next, forum_server.slow_seconds = 1, 3.0
    message_id = reply_to(topic_conversation)
    run_jobs()
    stopped = message(app, message_id)
    assert stopped.delivery_status == "failed" and "JobTimeoutException" in stopped.delivery_error
    assert stopped.delivery_error.endswith("(will retry)") and len(ours(forum_server)) == 1
    assert deliver_now(app, message_id) == "sent"
    assert len(ours(forum_server)) == 1


def test_a_worker_that_died_between_posting_and_recording_is_not_posted_again(app, forum_server, topic_conversation,
                                                                              reply_to, monkeypatch, run_jobs):
    """Posted, then the worker died before committing: the sweeper hands it to a new job, which finds the post."""
    message_id = reply_to(topic_conversation)

    def killed(*args):
        raise SystemExit("worker killed")

    monkeypatch.setattr(delivery, "_finish", killed)
    with pytest.raises(SystemExit):
        deliver_now(app, message_id)
    monkeypatch.undo()
    assert message(app, message_id).delivery_status == "sending" and len(ours(forum_server)) == 1
    with app.app_context():
        row = db.session.get(Message, message_id)
        row.delivery_attempted_at = utcnow() - delivery.STALE_ATTEMPT - timedelta(seconds=1)  # long dead
        db.session.commit()
        sweep(grace_seconds=0)
        db.session.remove()
    run_jobs()
    assert message(app, message_id).delivery_status == "sent"
    assert len(ours(forum_server)) == 1


def test_an_attempt_still_in_flight_is_not_doubled(app, forum_server, topic_conversation, reply_to):
    """While another attempt is sending (and not stale), a second copy of the job sends nothing and retries later."""
    message_id = reply_to(topic_conversation)
    with app.app_context():
        row = db.session.get(Message, message_id)
        row.delivery_status, row.delivery_attempted_at, row.delivery_attempts = "sending", utcnow(), 1
        db.session.commit()
    with pytest.raises(delivery.AttemptInFlight):
        deliver_now(app, message_id)
    assert ours(forum_server) == []


def test_a_server_error_is_retried_and_then_sent(app, forum_server, topic_conversation, reply_to):
    """A 500 marks the reply failed with the reason and raises for RQ; the retry posts it once."""
    forum_server.fail_next = 1
    message_id = reply_to(topic_conversation)
    with pytest.raises(Exception, match="500"):
        deliver_now(app, message_id)
    failed = message(app, message_id)
    assert failed.delivery_status == "failed" and "answered 500" in failed.delivery_error
    assert deliver_now(app, message_id) == "sent"
    assert len(ours(forum_server)) == 1


def test_a_refused_api_key_fails_for_good_without_retrying(app, forum_server, topic_conversation, reply_to):
    """A 403 (bad key) is final: the reply shows failed with Discourse's reason, and the job does not raise."""
    with app.app_context():
        channel = db.session.scalar(sa.select(Channel).where(Channel.slug == "community"))
        channel.settings = {**channel.settings, "api_key": "wrong-key-123"}
        db.session.commit()
    message_id = reply_to(topic_conversation)
    assert deliver_now(app, message_id) == "failed"
    assert "403" in message(app, message_id).delivery_error and ours(forum_server) == []


def test_a_discourse_channel_without_api_settings_keeps_replies_here(app, forum_server, topic_conversation, reply_to):
    """Without base_url, api_key and api_username the reply is skipped, saying what is missing."""
    with app.app_context():
        db.session.scalar(sa.select(Channel).where(Channel.slug == "community")).settings = {}
        db.session.commit()
    message_id = reply_to(topic_conversation)
    assert deliver_now(app, message_id) == "skipped"
    assert "needs base_url, api_key, api_username" in message(app, message_id).delivery_error


@pytest.fixture
def callback_conversation(app, deliver, receiver):
    """A native channel with a callback URL, and a conversation on it."""
    with app.app_context():
        db.session.scalar(sa.select(Channel).where(Channel.slug == "forum")).settings = {"callback_url": receiver.url}
        db.session.commit()
    return deliver(make_post(id="p-77", thread_id="t-9", url="https://brand.example/t/9")).get_json()[
        "conversation_id"]


@pytest.mark.parametrize("kind", ["native", "x", "khoros"])
def test_a_reply_reaches_the_callback_signed_with_an_idempotency_key(app, kind, callback_conversation, receiver,
                                                                     reply_to, run_jobs):
    """Native, X and Khoros channels POST the reply to the callback URL, signed, through a real worker."""
    with app.app_context():
        db.session.scalar(sa.select(Channel).where(Channel.slug == "forum")).kind = kind
        db.session.commit()
    message_id = reply_to(callback_conversation, "We have refunded the second charge.")
    run_jobs()
    [posted] = receiver.posted
    sent = message(app, message_id)
    assert sent.delivery_status == "sent"
    assert receiver.requests[0]["Idempotency-Key"] == sent.delivery_key == posted["idempotency_key"]
    assert posted["reply"]["text"] == "We have refunded the second charge."
    assert posted["in_reply_to"] == {"id": "p-77", "url": "https://brand.example/t/9"}
    assert posted["conversation"]["thread_id"] == "t-9" and posted["customer"]["handle"] == "maya"


def test_a_timed_out_callback_is_resent_with_the_same_key_and_posted_once(app, callback_conversation, receiver,
                                                                          reply_to):
    """The relay posts, then answers too late; the retry carries the same key and the relay posts nothing new."""
    message_id = reply_to(callback_conversation)
    time_out_once_then_retry(app, receiver, message_id)
    assert len(receiver.posted) == 1
    assert [r["Idempotency-Key"] for r in receiver.requests] == [message(app, message_id).delivery_key] * 2


def test_a_refused_callback_fails_for_good(app, callback_conversation, receiver, reply_to):
    """A 4xx from the relay (here: it does not accept our signature) is final, with the reason shown."""
    receiver.secret = "the relay has another secret"
    message_id = reply_to(callback_conversation)
    assert deliver_now(app, message_id) == "failed"
    assert "401" in message(app, message_id).delivery_error and receiver.posted == []


def delivery_failures(outcome: str) -> float:
    """The delivery-failure counter of /metrics for one outcome (this process's registry)."""
    return REGISTRY.get_sample_value("switchboard_delivery_failures_total", {"outcome": outcome}) or 0.0


def test_failed_deliveries_are_counted_for_metrics(app, forum_server, topic_conversation, reply_to, run_jobs):
    """Through a real worker: an attempt the forum answers 500 counts as an error (to be retried); a refused
    key counts as failed for good."""
    errors, failed = delivery_failures("error"), delivery_failures("failed")
    forum_server.fail_next = 1
    reply_to(topic_conversation)
    run_jobs()
    assert (delivery_failures("error") - errors, delivery_failures("failed") - failed) == (1, 0)
    with app.app_context():
        channel = db.session.scalar(sa.select(Channel).where(Channel.slug == "community"))
        channel.settings = {**channel.settings, "api_key": "wrong-key-123"}
        db.session.commit()
    reply_to(topic_conversation, "A second reply, refused.")
    run_jobs()
    assert delivery_failures("failed") - failed == 1
