"""What agents do to conversations: reply, note, status, assign, tags, priority, get next; who may see what."""

import threading

import pytest
import sqlalchemy as sa

from tests.factories import join_queue, make_post
from workspace.channels import registry
from workspace.extensions import db
from workspace.jobs.dispatch import dispatch_once
from workspace.models import Agent, AuditEntry, Conversation, Message


@pytest.fixture
def routed(app, deliver, run_jobs):
    """Three conversations routed to billing, returned oldest first."""
    ids = [deliver(make_post(text=f"@billing question {n}", author={"id": f"a{n}", "handle": f"h{n}"},
                             created_at=f"2026-01-0{n + 1}T10:00:00Z")).get_json()["conversation_id"]
           for n in range(3)]
    with app.app_context():
        dispatch_once(100)
    run_jobs()
    return ids


@pytest.fixture
def admin(as_token, token):
    return as_token(token)


def test_reply_is_stored_queued_and_stops_the_sla_clock(app, admin, routed, run_jobs):
    """A reply becomes an outbound message, assigns the replier, records the first reply, and is delivered by a job."""
    response = admin("post", f"/conversations/{routed[0]}/replies", json={"text": "We're on it!"})
    assert response.status_code == 201
    message = response.get_json()
    assert (message["direction"], message["delivery_status"]) == ("outbound", "queued")
    detail = admin("get", f"/conversations/{routed[0]}").get_json()
    assert detail["assignee"]["email"] == "ada@example.com" and detail["sla_due_at"] is None
    with app.app_context():
        assert db.session.get(Conversation, routed[0]).first_reply_at is not None
    run_jobs()
    delivered = admin("get", f"/conversations/{routed[0]}").get_json()["messages"][-1]
    assert delivered["delivery_status"] == "skipped" and "no outbound delivery" in delivered["delivery_error"]


def test_a_retried_delivery_never_sends_twice(app, admin, routed, monkeypatch):
    """Once a reply is sent, running its job again sends nothing."""
    from workspace.services.conversations import delivery

    sent = []
    monkeypatch.setitem(registry.SENDERS, "native", lambda message, **attempt: sent.append(message))
    message_id = admin("post", f"/conversations/{routed[0]}/replies", json={"text": "hi"}).get_json()["id"]
    with app.app_context():
        assert delivery.deliver_reply(message_id) == "sent"
        assert delivery.deliver_reply(message_id) == "sent"
        assert db.session.get(Message, message_id).delivery_attempts == 1
    assert len(sent) == 1


def test_a_failing_delivery_is_marked_failed_with_the_reason_and_raises_for_retry(app, admin, routed, monkeypatch):
    """The error is kept on the message and the job raises so RQ retries with backoff."""
    from workspace.services.conversations import delivery

    def broken(message, **attempt):
        raise ConnectionError("relay unreachable")

    monkeypatch.setitem(registry.SENDERS, "native", broken)
    message_id = admin("post", f"/conversations/{routed[0]}/replies", json={"text": "hi"}).get_json()["id"]
    with app.app_context():
        with pytest.raises(ConnectionError):
            delivery.deliver_reply(message_id)
        message = db.session.get(Message, message_id)
        assert message.delivery_status == "failed" and "relay unreachable" in message.delivery_error


def test_note_status_tags_priority_and_assign_are_applied_and_audited(app, admin, routed):
    """Each change lands, and the audit log has each with before and after."""
    assert admin("post", f"/conversations/{routed[0]}/notes", json={"text": "VIP, be nice"}).status_code == 201
    body = admin("patch", f"/conversations/{routed[0]}", json={
        "status": "pending", "tags": ["Refund", "refund ", "vip"], "priority": "low", "assignee": "me"}).get_json()
    assert (body["status"], body["tags"], body["priority"]) == ("pending", ["refund", "vip"], "low")
    assert body["assignee"]["email"] == "ada@example.com"
    assert body["messages"][-1]["direction"] == "note"
    resolved = admin("patch", f"/conversations/{routed[0]}", json={"status": "resolved"}).get_json()
    assert resolved["status"] == "resolved"
    with app.app_context():
        actions = list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))
        assert actions == ["conversation.note", "conversation.status", "conversation.assign", "conversation.tags",
                           "conversation.priority", "conversation.status"]


@pytest.mark.parametrize("body,message", [
    ({"status": "escalated"}, "status"), ({"tags": "vip"}, "tags"), ({"tags": ["x" * 41]}, "tags"),
    ({"priority": "asap"}, "priority"), ({"assignee": 99999}, "assignee"), ({"assignee": True}, "assignee"),
])
def test_bad_changes_are_400_and_change_nothing(app, admin, routed, body, message):
    """Each invalid change names its field and leaves the conversation as it was."""
    response = admin("patch", f"/conversations/{routed[0]}", json=body)
    assert response.status_code == 400 and response.get_json()["error"]["message"].startswith(message)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


@pytest.mark.parametrize("text", ["", "   ", None, 5, "x" * 20_001])
def test_empty_or_huge_replies_are_refused(admin, routed, text):
    """A reply needs text, of a sane size."""
    assert admin("post", f"/conversations/{routed[0]}/replies", json={"text": text}).status_code == 400


def test_get_next_hands_out_the_most_urgent_first_then_the_next(admin, routed):
    """Priority first, then SLA due time: the oldest normal post comes first; a second call gets another."""
    first = admin("post", "/conversations/next").get_json()
    second = admin("post", "/conversations/next").get_json()
    assert first["id"] == routed[0] and second["id"] == routed[1]
    assert first["assignee"]["email"] == "ada@example.com"
    admin("post", "/conversations/next")
    nothing = admin("post", "/conversations/next")
    assert nothing.status_code == 404 and nothing.get_json()["error"]["code"] == "nothing_waiting"


def test_simultaneous_get_next_never_hands_out_the_same_conversation(app, token_for, routed):
    """Agents pressing at the same instant, from parallel threads, each get a different conversation."""
    tokens = [token_for("supervisor", email=f"s{n}@example.com") for n in range(3)]
    results, barrier = [None] * 3, threading.Barrier(3)

    def press(index):
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/conversations/next", headers={"Authorization": f"Bearer {tokens[index]}"})
        results[index] = response.get_json()["id"] if response.status_code == 200 else None

    threads = [threading.Thread(target=press, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == sorted(routed)


def test_agents_see_only_their_queues(app, as_token, token_for, routed):
    """Without membership an agent sees no queue and no conversation; with it, they do."""
    kofi = as_token(token_for("agent", email="kofi@example.com"))
    assert kofi("get", "/queues").get_json()["data"] == []
    assert kofi("get", f"/conversations/{routed[0]}").status_code == 404
    assert kofi("get", "/queues/billing/conversations").status_code == 404
    assert kofi("post", "/conversations/next").status_code == 404
    join_queue(app, "kofi@example.com", "billing")
    assert [q["slug"] for q in kofi("get", "/queues").get_json()["data"]] == ["billing"]
    assert kofi("get", f"/conversations/{routed[0]}").status_code == 200
    assert kofi("post", "/conversations/next").get_json()["id"] == routed[0]


def test_assigning_someone_outside_the_queue_is_refused(app, admin, token_for, routed):
    """An agent who does not work the queue cannot be given its conversations."""
    token_for("agent", email="kofi@example.com")
    with app.app_context():
        kofi_id = db.session.scalar(sa.select(Agent.id).where(Agent.email == "kofi@example.com"))
    refused = admin("patch", f"/conversations/{routed[0]}", json={"assignee": kofi_id})
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "not_a_member"
    join_queue(app, "kofi@example.com", "billing")
    assert admin("patch", f"/conversations/{routed[0]}", json={"assignee": kofi_id}).status_code == 200
