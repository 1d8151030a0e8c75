"""From outbox to routed conversation through a real RQ worker on a real Redis."""

import pytest
import sqlalchemy as sa
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.factories import deliver_and_dispatch, make_post
from workspace.extensions import db
from workspace.jobs.dispatch import dispatch_once, sweep
from workspace.models import Conversation, OutboxEntry


def routed(app, conversation_id: int) -> Conversation:
    with app.app_context():
        conversation = db.session.get(Conversation, conversation_id)
        db.session.expunge(conversation)
        return conversation


def test_worker_routes_a_mention_to_its_queue_and_others_to_triage(app, deliver, run_jobs, emitted):
    """'@billing' picks the billing queue; a post naming no queue goes to triage, both open."""
    billing = deliver_and_dispatch(app, deliver, make_post(text="@billing I was charged twice"))
    other = deliver_and_dispatch(app, deliver, make_post(text="hello there", author={"id": "z", "handle": "z"}))
    run_jobs()
    first, second = routed(app, billing), routed(app, other)
    assert (first.status, second.status) == ("open", "open")
    with app.app_context():
        assert db.session.get(Conversation, billing).queue.slug == "billing"
        assert db.session.get(Conversation, other).queue.slug == "triage"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEntry)) == 0
    assert first.explanation["queue_reason"] and first.sla_due_at is not None
    assert first.priority in (0, 1)  # "charged twice" is urgent words
    created = [c["id"] for name, _, data in emitted if name == "conversation.created" for c in data["conversations"]]
    assert sorted(created) == sorted([billing, other])


def test_routing_twice_changes_nothing_and_emits_once(app, deliver, run_jobs, emitted):
    """The job is idempotent: a second run of the same batch is a no-op with no event."""
    from workspace.jobs.tasks.conversations import route_conversations

    conversation_id = deliver_and_dispatch(app, deliver, make_post(text="@tech site is down"))
    run_jobs()
    before = routed(app, conversation_id)
    events_before = len(emitted)
    with app.app_context():
        assert route_conversations([conversation_id]) == {"routed": 0, "skipped": 1}
    after = routed(app, conversation_id)
    assert (after.queue_id, after.priority, after.updated_at) == (before.queue_id, before.priority, before.updated_at)
    assert len(emitted) == events_before


def test_follow_up_rescores_but_keeps_the_queue(app, deliver, run_jobs, emitted):
    """A follow-up post is routed again for priority, without moving the conversation."""
    conversation_id = deliver_and_dispatch(app, deliver, make_post(thread_id="t", text="@billing question"))
    run_jobs()
    deliver_and_dispatch(app, deliver, make_post(thread_id="t", text="my account was HACKED, urgent"))
    run_jobs()
    with app.app_context():
        conversation = db.session.get(Conversation, conversation_id)
        assert conversation.queue.slug == "billing"
        assert conversation.priority <= 1
    in_queue_room = [name for name, room, data in emitted if room.startswith("queue:") and name != "queue.counts"
                     and conversation_id in [c["id"] for c in data["conversations"]]]
    assert in_queue_room == ["conversation.created", "conversation.updated"]
    viewers = [data for name, room, data in emitted if room == f"conversation:{conversation_id}"]
    assert [c["priority"] for data in viewers for c in data["conversations"]] in (["urgent"], ["high"])


def test_customer_follow_up_reopens_a_snoozed_conversation(app, deliver, run_jobs, emitted):
    """The customer writes while the conversation is snoozed (pending on them): it opens again, now, and the
    snooze ends, so the scheduler has nothing left to wake."""
    from datetime import timedelta

    from workspace.models import utcnow
    from workspace.services.responses.actions import wake_snoozed

    conversation_id = deliver_and_dispatch(app, deliver, make_post(thread_id="s", text="@billing refund?"))
    run_jobs()
    with app.app_context():
        conversation = db.session.get(Conversation, conversation_id)
        conversation.status, conversation.snoozed_until = "pending", utcnow() + timedelta(days=3)
        db.session.commit()
    deliver_and_dispatch(app, deliver, make_post(thread_id="s", text="still nothing, any news?"))
    run_jobs()
    after = routed(app, conversation_id)
    assert (after.status, after.snoozed_until) == ("open", None)
    with app.app_context():
        assert wake_snoozed(now=utcnow() + timedelta(days=4)) == 0


def test_sweeper_reroutes_what_redis_lost(app, deliver, run_jobs, redis):
    """If Redis loses the queued job, the sweeper enqueues the unrouted conversation again."""
    conversation_id = deliver_and_dispatch(app, deliver, make_post(text="@tech lost job"))
    redis.flushdb()  # Redis restarted without persistence: the job is gone
    run_jobs()
    assert routed(app, conversation_id).status == "new"
    with app.app_context():
        assert sweep(grace_seconds=0) == 1
    run_jobs()
    assert routed(app, conversation_id).status == "open"


def test_post_accepted_while_redis_is_down_is_routed_once_it_is_back(app, deliver, run_jobs):
    """With Redis down the webhook still answers 202; the outbox keeps the work until a sweep."""
    app.extensions["redis"].connection_pool.connection_kwargs.update(port=1)  # nothing listens there
    response = deliver(make_post(text="@billing during the outage"))
    assert response.status_code == 202
    with app.app_context():
        with pytest.raises(RedisConnectionError):
            dispatch_once(100)
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEntry)) == 1
    from workspace.infra import broker

    broker.init_app(app)  # Redis is back
    with app.app_context():
        assert sweep(grace_seconds=0) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEntry)) == 0
    run_jobs()
    assert routed(app, response.get_json()["conversation_id"]).status == "open"


def test_dispatcher_thread_drains_the_outbox_after_a_post(app, deliver, redis):
    """The in-process dispatcher, woken by the webhook, enqueues one job for the batch."""
    import time

    from workspace.jobs.dispatch import Dispatcher

    dispatcher = app.extensions["dispatcher"] = Dispatcher(app)
    try:
        deliver([make_post(), make_post(author={"id": "q", "handle": "q"})])
        deadline = time.monotonic() + 10
        with app.app_context():
            pending = sa.select(sa.func.count()).select_from(OutboxEntry)
            while db.session.scalar(pending) and time.monotonic() < deadline:
                db.session.rollback()
                time.sleep(0.05)
            assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEntry)) == 0
    finally:
        dispatcher.stop()
    queue_key = f"rq:queue:{app.config['RQ_QUEUE']}"
    assert redis.llen(queue_key) == 1
