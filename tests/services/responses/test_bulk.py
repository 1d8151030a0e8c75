"""Bulk actions through a real RQ worker on a real Redis: dry run, progress, results, a worker killed mid-run, undo."""

import os
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
import sqlalchemy as sa
from rq.registry import ScheduledJobRegistry, StartedJobRegistry

from tests.factories import ROOT
from tests.services.responses.test_macros import OUTAGE, call, make, world  # noqa: F401  (fixtures)
from tests.web.test_auth import socket_app  # noqa: F401  (fixture)
from workspace.channels import registry
from workspace.extensions import db, socketio
from workspace.infra.broker import job_queue
from workspace.jobs.worker import AppWorker
from workspace.models import Agent, Author, BulkItem, Channel, Conversation, Message, Queue, utcnow

TAG_AND_RESOLVE = {**OUTAGE, "name": "Tag and resolve", "template": "",
                   "actions": [{"type": "add_tags", "tags": ["outage"]}, {"type": "status", "status": "resolved"}]}


@pytest.fixture
def many(app, world):  # noqa: F811
    """25 more open billing conversations on the forum (the 3rd customer is a VIP); returns every billing id."""
    with app.app_context():
        forum = db.session.scalar(sa.select(Channel).where(Channel.slug == "forum"))
        billing = db.session.scalar(sa.select(Queue).where(Queue.slug == "billing"))
        for number in range(25):
            author = Author(channel_id=forum.id, external_id=f"m{number}", handle=f"m{number}", name=f"Max{number} Doe",
                            tags=["vip"] if number == 2 else [])
            conversation = Conversation(channel_id=forum.id, author=author, queue=billing, status="open",
                                        subject=f"Outage {number}")
            db.session.add_all([author, conversation, Message(conversation=conversation, channel_id=forum.id,
                                                              author=author, text=f"down {number}")])
        db.session.commit()
        return list(db.session.scalars(sa.select(Conversation.id).where(Conversation.channel_id == forum.id)
                                       .order_by(Conversation.id)))


@pytest.fixture
def lock(app, redis):
    """lock(conversation_id, name): that agent holds the soft reply lock, as typing in the console does."""
    keys = []

    def lock(conversation_id: int, agent_name: str) -> None:
        with app.app_context():
            agent_id = db.session.scalar(sa.select(Agent.id).where(Agent.name == agent_name))
        keys.append(f"presence:{conversation_id}:lock")
        redis.set(keys[-1], agent_id, ex=60)

    yield lock
    for key in keys:  # the Redis server outlives the test
        redis.delete(key)


def replies_per_conversation(app) -> dict[int, int]:
    with app.app_context():
        return dict(db.session.execute(sa.select(Message.conversation_id, sa.func.count()).where(
            Message.direction == "outbound").group_by(Message.conversation_id)).all())


def test_dry_run_counts_vips_and_locks_renders_a_sample_and_writes_nothing(app, call, many, lock, counts):  # noqa: F811
    """The dry run says how many change, how many VIPs, who holds locks, what fails and why, with a sample reply."""
    macro = make(call, template="Hi {{ author.first_name | default('there') }}, we are on it.")
    lock(many[4], "Bob")
    rows = counts()
    every = call("Ana", "post", "/bulk/dry-run", json={"kind": "macro", "macro_id": macro["id"],
                                                       "filter": {"queue": "billing", "status": "open"}}).get_json()
    assert (every["total"], every["will_change"], every["vip"], every["skipped"]) == (29, 28, 2, 1)
    assert every["locked"] == [{"conversation_id": many[4], "agent": {"id": every["locked"][0]["agent"]["id"],
                                                                      "name": "Bob"}}]
    assert every["sample"][0]["reply"] == "Hi Maya, we are on it."
    assert [c["action"] for c in every["sample"][0]["changes"]] == ["reply", "add_tags", "status"]
    assert counts() == rows
    long_reply = make(call, name="Long", template="{{ 'x' * 281 }}")
    failing = call("Ana", "post", "/bulk/dry-run", json={"kind": "macro", "macro_id": long_reply["id"],
                                                         "filter": {"queue": "billing"}}).get_json()
    assert failing["failing"] == 1 and "must fit 280" in failing["failures"][0]["reason"]


@pytest.mark.parametrize("body,status,says", [
    ({"kind": "explode", "conversation_ids": [1]}, 400, "kind"),
    ({"kind": "status", "status": "resolved"}, 400, "choose conversations one way"),
    ({"kind": "status", "status": "resolved", "conversation_ids": []}, 400, "conversation_ids"),
    ({"kind": "status", "status": "resolved", "conversation_ids": ["1"]}, 400, "conversation_ids"),
    ({"kind": "status", "status": "escalated", "conversation_ids": [1]}, 400, "status"),
    ({"kind": "tags", "conversation_ids": [1]}, 400, "tags to add or remove"),
    ({"kind": "reply", "text": "{{ ''.__class__ }}", "conversation_ids": [1]}, 400, "unsafe"),
    ({"kind": "status", "status": "open", "filter": {"queue": "tech"}}, 404, "filter.queue"),  # not theirs: 404
    ({"kind": "status", "status": "open", "conversation_ids": [99999]}, 404, "no conversation 99999"),
    ({"kind": "macro", "macro_id": 99999, "conversation_ids": [1]}, 404, "no macro"),
    ({"kind": "macro", "macro_id": "1", "conversation_ids": [1]}, 400, "macro_id"),
    ({"kind": "reply", "text": " ", "conversation_ids": [1]}, 400, "text: must not be blank"),
])
def test_bad_bulk_requests_are_refused_and_start_nothing(app, call, world, body, status, says):  # noqa: F811
    """Each mistake is named; no bulk action is recorded."""
    response = call("Ana", "post", "/bulk", json=body)
    assert response.status_code == status and says in response.get_json()["error"]["message"]
    assert call("Ana", "get", "/bulk").get_json()["data"] == []


def test_a_macro_on_all_matching_runs_through_a_worker_with_live_progress_and_results(
        app, socket_app, call, many, redis, lock, world):  # noqa: F811
    """Replies go out once each, VIP or not; a locked conversation is skipped saying who holds it; progress is live."""
    app.config["BULK_BATCH"] = socket_app.config["BULK_BATCH"] = 10
    macro = make(call, template=OUTAGE["template"] + " Follow along:" + " status updates" * 20)  # too long for X
    lock(many[4], "Bob")
    ana = socketio.test_client(socket_app, auth={"token": world["tokens"]["Ana"]})
    started = call("Ana", "post", "/bulk", json={"kind": "macro", "macro_id": macro["id"],
                                                  "filter": {"queue": "billing", "status": "open"}})
    assert started.status_code == 202 and started.get_json()["state"] == "queued"
    bulk_id = started.get_json()["id"]
    with socket_app.app_context():
        AppWorker([job_queue()], connection=redis).work(burst=True)
        db.session.remove()
    progress = [e["args"][0] for e in ana.get_received() if e["name"] == "bulk.progress"]
    assert [p["processed"] for p in progress] == [10, 20, 29, 29]
    assert progress[-1]["state"] == "finished"
    bulk = call("Ana", "get", f"/bulk/{bulk_id}").get_json()
    assert (bulk["total"], bulk["done"], bulk["skipped"], bulk["failed"]) == (29, 27, 1, 1)
    skipped = call("Ana", "get", f"/bulk/{bulk_id}/items?result=skipped").get_json()["data"]
    assert skipped == [{"conversation_id": many[4], "result": "skipped", "reason": "Bob is replying to it",
                        "message_id": None}]
    failed = call("Ana", "get", f"/bulk/{bulk_id}/items?result=failed").get_json()["data"]
    assert failed[0]["conversation_id"] == world["ids"][3] and "send the reply" in failed[0]["reason"]
    sent = replies_per_conversation(app)
    assert len(sent) == 27 and set(sent.values()) == {1}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
            Message.direction == "outbound", Message.delivery_attempts == 1)) == 27
    assert call("Ana", "get", "/bulk").get_json()["data"][0]["id"] == bulk_id  # shown again after a reload
    ana.disconnect()


DIES_MID_BATCH = textwrap.dedent("""
    import os, sys
    from tests.factories import make_config
    from workspace import create_app
    from workspace.infra.broker import job_queue, redis_client
    from workspace.jobs.worker import AppWorker
    from workspace.services.responses.bulk import runner

    app = create_app(make_config(SQLALCHEMY_DATABASE_URI=os.environ["DB"], REDIS_URL=os.environ["REDIS"],
                                 RQ_QUEUE=os.environ["QUEUE"], BULK_BATCH=10))
    applied, real = [0], runner.apply_actions

    def apply_then_die(*args, **kwargs):
        applied[0] += 1
        if applied[0] == int(os.environ["DIE_AT"]):
            os._exit(9)  # the process ends here, like SIGKILL: no cleanup, no commit, no exception handling
        return real(*args, **kwargs)

    runner.apply_actions = apply_then_die
    with app.app_context():
        AppWorker([job_queue()], connection=redis_client()).work(burst=True)
""")


def test_a_worker_killed_mid_batch_is_retried_and_sends_no_reply_twice(app, call, many, redis, run_jobs):  # noqa: F811
    """The worker dies in the second batch; the abandoned job is retried, resumes there, and each reply exists once."""
    app.config["BULK_BATCH"] = 10
    macro = make(call)
    bulk_id = call("Ana", "post", "/bulk", json={"kind": "macro", "macro_id": macro["id"],
                                                 "conversation_ids": many[:25]}).get_json()["id"]
    env = dict(os.environ, DB=app.config["SQLALCHEMY_DATABASE_URI"], REDIS=app.config["REDIS_URL"],
               QUEUE=app.config["RQ_QUEUE"], DIE_AT="15")
    died = subprocess.run([sys.executable, "-c", DIES_MID_BATCH], env=env, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert died.returncode == 9, died.stderr
    assert call("Ana", "get", f"/bulk/{bulk_id}").get_json()["processed"] == 10  # the first batch committed
    assert len(replies_per_conversation(app)) == 10
    with app.app_context():
        queue = job_queue()
        StartedJobRegistry(queue=queue).cleanup(timestamp=10**10)  # what any worker does once the heartbeat lapses
        scheduled = ScheduledJobRegistry(queue=queue)
        assert scheduled.get_job_ids() == [f"bulk-run-{bulk_id}"]
        scheduled.requeue(f"bulk-run-{bulk_id}")  # its retry time has come
    run_jobs()
    bulk = call("Ana", "get", f"/bulk/{bulk_id}").get_json()
    assert (bulk["state"], bulk["done"], bulk["processed"]) == ("finished", 25, 25)
    sent = replies_per_conversation(app)
    assert sorted(sent) == sorted(many[:25]) and set(sent.values()) == {1}


def test_undo_puts_back_tags_and_status_except_where_someone_changed_it_since(app, call, many, run_jobs):  # noqa: F811
    """Undo restores every conversation nobody touched since, and says which it left and why."""
    macro = make(call, **TAG_AND_RESOLVE)
    chosen = many[:6]
    bulk_id = call("Ana", "post", "/bulk", json={"kind": "macro", "macro_id": macro["id"],
                                                 "conversation_ids": chosen}).get_json()["id"]
    run_jobs()
    assert call("Ana", "get", f"/bulk/{bulk_id}").get_json()["undoable"] is True
    call("Ada", "patch", f"/conversations/{chosen[0]}", json={"priority": "urgent"})
    assert call("Bob", "post", f"/bulk/{bulk_id}/undo").status_code == 404
    assert call("Ana", "post", f"/bulk/{bulk_id}/undo").status_code == 202
    run_jobs()
    bulk = call("Ana", "get", f"/bulk/{bulk_id}").get_json()
    assert bulk["state"] == "undone" and not bulk["undoable"]
    with app.app_context():
        rows = {c.id: (c.status, c.tags) for c in db.session.scalars(
            sa.select(Conversation).where(Conversation.id.in_(chosen)))}
        items = {i.conversation_id: (i.result, i.reason) for i in db.session.scalars(sa.select(BulkItem))}
    assert rows[chosen[0]] == ("resolved", ["outage"])
    assert items[chosen[0]] == ("done", "not undone: changed since by someone else")
    assert all(rows[i] == ("open", []) and items[i] == ("undone", None) for i in chosen[1:])
    again = call("Ana", "post", f"/bulk/{bulk_id}/undo")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "not_undoable"


def test_undo_is_refused_after_the_window(app, call, many, run_jobs):  # noqa: F811
    """A few minutes later the undo is gone."""
    app.config["BULK_UNDO_SECONDS"] = 0
    bulk_id = call("Ana", "post", "/bulk", json={"kind": "tags", "add": ["outage"],
                                                 "conversation_ids": many[:2]}).get_json()["id"]
    run_jobs()
    response = call("Ana", "post", f"/bulk/{bulk_id}/undo")
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "undo_expired"


@pytest.mark.parametrize("body,expect", [
    ({"kind": "assign", "assignee": "me"}, lambda c, ana: c.assignee_id == ana),
    ({"kind": "move", "queue": "tech"}, lambda c, ana: c.queue.slug == "tech"),
    ({"kind": "status", "status": "pending"}, lambda c, ana: c.status == "pending"),
    ({"kind": "tags", "add": ["a", "b"], "remove": ["a"]}, lambda c, ana: c.tags == ["b"]),
    ({"kind": "reply", "text": "Hi {{ author.handle }}"},
     lambda c, ana: c.messages[-1].text == f"Hi {c.author.handle}"),
])
def test_each_single_change_applies_in_bulk(app, call, many, run_jobs, body, expect):  # noqa: F811
    """Reply, assign, tag, move and status each work on a selection."""
    bulk_id = call("Ana", "post", "/bulk", json={**body, "conversation_ids": many[:3]}).get_json()["id"]
    run_jobs()
    assert call("Ana", "get", f"/bulk/{bulk_id}").get_json()["done"] == 3
    with app.app_context():
        ana = db.session.scalar(sa.select(Agent.id).where(Agent.name == "Ana"))
        assert all(expect(db.session.get(Conversation, i), ana) for i in many[:3])


def test_undo_puts_back_queue_priority_assignee_and_customer_tags(app, call, many, run_jobs):  # noqa: F811
    """Every non-sending field a macro changes comes back as it was, and the event-visible assignee too."""
    macro = make(call, name="Reroute", template="", actions=[
        {"type": "move", "queue": "tech"}, {"type": "priority", "priority": "urgent"},
        {"type": "assign", "assignee": "me"}, {"type": "tag_customer", "tags": ["affected"]},
        {"type": "snooze", "minutes": 60}])
    chosen = many[5:8]
    with app.app_context():
        before = {c.id: (c.queue.slug, c.priority, c.assignee_id, c.author.tags, c.status, c.snoozed_until,
                         c.sla_due_at) for c in db.session.scalars(sa.select(Conversation).where(
                             Conversation.id.in_(chosen)))}
    bulk_id = call("Sam", "post", "/bulk", json={"kind": "macro", "macro_id": macro["id"],
                                                 "conversation_ids": chosen}).get_json()["id"]
    run_jobs()
    assert call("Sam", "get", f"/bulk/{bulk_id}").get_json()["done"] == 3
    assert call("Sam", "get", f"/conversations/{chosen[0]}").get_json()["queue"] == "tech"
    call("Sam", "post", f"/bulk/{bulk_id}/undo")
    run_jobs()
    with app.app_context():
        after = {c.id: (c.queue.slug, c.priority, c.assignee_id, c.author.tags, c.status, c.snoozed_until,
                        c.sla_due_at) for c in db.session.scalars(sa.select(Conversation).where(
                            Conversation.id.in_(chosen)))}
    assert after == before


def test_a_reply_carried_by_two_delivery_jobs_is_sent_once(app, call, many, run_jobs, redis, monkeypatch):  # noqa: F811
    """A bulk batch's delivery job and the sweeper's can carry the same reply: while one is sending it the
    other backs off (RQ retries it), and whichever runs later finds it sent."""
    from workspace.services.conversations import delivery

    sent = []
    monkeypatch.setitem(registry.SENDERS, "native", lambda message, *, key, retrying: sent.append(message.id))
    call("Ana", "post", "/bulk", json={"kind": "reply", "text": "On it", "conversation_ids": many[:1]})
    with app.app_context():
        AppWorker([job_queue()], connection=redis).work(burst=True, max_jobs=1)  # the bulk job only
        message = db.session.scalar(sa.select(Message).where(Message.direction == "outbound"))
        message_id = message.id
        assert delivery._claim(message, "another-worker")  # another worker is sending it right now
        with pytest.raises(delivery.DeliveryFailed):
            delivery.deliver_replies([message_id])  # the sweeper's job backs off, for RQ to retry
        assert sent == []
        stale = utcnow() - delivery.STALE_ATTEMPT - timedelta(seconds=1)
        db.session.execute(sa.update(Message).where(Message.id == message_id).values(delivery_attempted_at=stale))
        db.session.commit()  # that worker died before sending: its attempt went stale and is taken over
        assert delivery.deliver_replies([message_id]) == {"sent": 1}
        assert delivery.deliver_reply(message_id) == "sent"
        db.session.remove()
    run_jobs()  # the bulk batch's own delivery job finds it sent
    assert sent == [message_id]
