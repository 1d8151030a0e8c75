"""Escalation: one click makes one ticket in the stub (a real server process) through a real RQ worker;
the ticketing system down, Redis down, retries, and concurrent clicks. Status coming back: test_escalation_status."""

import threading

import requests
import sqlalchemy as sa
from prometheus_client import REGISTRY

from tests.factories import make_post, running_stub, wait_for
from tests.services.escalation.ticketing import AUTH, escalation_of, stub_tickets, work_with_scheduler
from workspace.extensions import db
from workspace.infra.broker import job_queue
from workspace.jobs.dispatch import sweep
from workspace.live import signals
from workspace.live.changes import announce
from workspace.models import AuditEntry, Conversation, Escalation
from workspace.services.escalation.tickets import request_escalation


def test_one_click_creates_a_ticket_with_the_thread_customer_priority_tags_and_link(
        app, stub, admin, conversation_id, run_jobs):
    """Escalate: 202 and pending at once, escalated, audited; the worker creates the ticket; the conversation
    shows its number, link and status."""
    response = admin("post", f"/conversations/{conversation_id}/escalate")
    assert response.status_code == 202
    detail = response.get_json()
    assert detail["status"] == "escalated"
    assert detail["escalation"]["state"] == "pending" and detail["escalation"]["ticket_id"] is None
    assert detail["escalation"]["agent"]["email"] == "ada@example.com"
    run_jobs()
    [ticket] = stub_tickets(stub)
    assert (ticket["subject"], ticket["priority"], ticket["external_id"]) == ("Charged twice", "high",
                                                                              str(conversation_id))
    assert ticket["tags"] == ["channel_forum", "double_charge", "queue_billing", "refund", "switchboard"]
    comment = ticket["description"]
    assert f"https://switchboard.example/conversations/{conversation_id}" in comment
    assert "I was charged twice" in comment and "Refund system shows two captures" in comment
    assert "(internal note)" in comment
    requester = requests.get(f"{stub}/agent/tickets/{ticket['id']}", timeout=5).text
    assert "Maya Lin" in requester and "maya@example.com" in requester
    detail = admin("get", f"/conversations/{conversation_id}").get_json()
    assert detail["status"] == "escalated"
    assert detail["escalation"] == {**detail["escalation"], "state": "created", "ticket_id": ticket["id"],
                                    "ticket_status": "new", "ticket_url": f"{stub}/agent/tickets/{ticket['id']}",
                                    "attempts": 1, "last_error": None}
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.target_id == conversation_id))
        assert {"conversation.escalate", "escalation.ticket_created"} <= set(actions)


def test_escalating_twice_creates_one_ticket(app, stub, admin, conversation_id, run_jobs):
    """A second click answers 200 with the same escalation; a job run again changes nothing."""
    assert admin("post", f"/conversations/{conversation_id}/escalate").status_code == 202
    again = admin("post", f"/conversations/{conversation_id}/escalate")
    assert again.status_code == 200 and again.get_json()["escalation"]["state"] == "pending"
    run_jobs()
    with app.app_context():
        announce(signals.escalations_requested, escalation_of(app, conversation_id).id)  # the sweeper, after a lost job
    run_jobs()
    assert admin("post", f"/conversations/{conversation_id}/escalate").status_code == 200
    run_jobs()
    assert len(stub_tickets(stub)) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Escalation)) == 1


def test_a_ticket_created_before_a_timeout_is_found_not_duplicated(app, stub, admin, conversation_id, run_jobs):
    """If the ticket exists already (a create that timed out on our side), the job adopts it by external_id."""
    existing = requests.post(f"{stub}/api/v2/tickets.json", auth=AUTH, timeout=5, json={"ticket": {
        "subject": "Charged twice", "comment": {"body": "thread"}, "external_id": str(conversation_id)}}).json()
    admin("post", f"/conversations/{conversation_id}/escalate")
    run_jobs()
    assert [t["id"] for t in stub_tickets(stub)] == [existing["ticket"]["id"]]
    assert escalation_of(app, conversation_id).ticket_id == existing["ticket"]["id"]


def test_ticketing_down_then_up_stays_pending_retries_and_creates_one_ticket(
        app, stub_url, admin, conversation_id, run_jobs, tmp_path):
    """With nothing listening the job fails and is scheduled again with backoff, the conversation shows the
    escalation pending with the error; once the stub is up a retry creates exactly one ticket."""
    assert admin("post", f"/conversations/{conversation_id}/escalate").status_code == 202
    run_jobs()
    pending = admin("get", f"/conversations/{conversation_id}").get_json()
    assert pending["status"] == "escalated"
    assert pending["escalation"]["state"] == "pending" and pending["escalation"]["attempts"] == 1
    assert "ConnectionError" in pending["escalation"]["last_error"]
    escalation = escalation_of(app, conversation_id)
    with app.app_context():
        assert job_queue().scheduled_job_registry.get_job_ids() == [f"escalate-{escalation.id}"]
    work_with_scheduler(app)  # still down: another failed attempt, still pending
    assert wait_for(lambda: work_with_scheduler(app) or escalation_of(app, conversation_id).attempts >= 2)
    assert escalation_of(app, conversation_id).state == "pending"
    with running_stub(tmp_path, int(stub_url.rsplit(":", 1)[1])) as stub:
        assert wait_for(lambda: work_with_scheduler(app) or escalation_of(app, conversation_id).state == "created")
        assert len(stub_tickets(stub, str(conversation_id))) == 1
    escalation = escalation_of(app, conversation_id)
    assert escalation.last_error is None and escalation.attempts >= 3


def test_redis_down_at_the_click_loses_nothing(app, stub, admin, conversation_id, run_jobs, monkeypatch):
    """If the job cannot be queued the click still succeeds and stays pending; the sweeper queues it later."""

    def redis_is_down():
        raise ConnectionError("Redis is down")

    monkeypatch.setattr("workspace.jobs.enqueue.job_queue", redis_is_down)
    assert admin("post", f"/conversations/{conversation_id}/escalate").status_code == 202
    monkeypatch.undo()
    run_jobs()
    assert stub_tickets(stub) == [] and escalation_of(app, conversation_id).state == "pending"
    with app.app_context():
        sweep(0)
        sweep(0)  # a second sweep finds the job queued and leaves it
        assert job_queue().count == 1
    run_jobs()
    assert escalation_of(app, conversation_id).state == "created" and len(stub_tickets(stub)) == 1


def test_after_the_retries_run_out_the_sweeper_starts_again(app, stub_url, admin, conversation_id, run_jobs,
                                                            tmp_path):
    """A job that failed for good leaves the escalation pending; the sweeper queues it again, and a later
    attempt, with the ticketing system back, creates the ticket."""
    app.config["ESCALATION_RETRY_SECONDS"] = [0]  # one immediate retry, then the job has failed
    admin("post", f"/conversations/{conversation_id}/escalate")
    run_jobs()
    escalation = escalation_of(app, conversation_id)
    assert (escalation.state, escalation.attempts) == ("pending", 2)
    with app.app_context():
        assert job_queue().failed_job_registry.get_job_ids() == [f"escalate-{escalation.id}"]
    with running_stub(tmp_path, int(stub_url.rsplit(":", 1)[1])) as stub:
        with app.app_context():
            sweep(0)
        run_jobs()
        assert escalation_of(app, conversation_id).state == "created" and len(stub_tickets(stub)) == 1


def test_two_agents_escalating_at_once_make_one_escalation(app, stub, token, conversation_id, run_jobs):
    """Two clicks racing on one conversation: one asks for the ticket (202), the other gets it (200)."""
    barrier, answers = threading.Barrier(2), []

    def click():
        client = app.test_client()
        barrier.wait()
        answers.append(client.post(f"/api/v1/conversations/{conversation_id}/escalate",
                                   headers={"Authorization": f"Bearer {token}"}).status_code)

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200, 202]
    run_jobs()
    assert len(stub_tickets(stub)) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "conversation.escalate")) == 1


def test_request_escalation_joins_the_callers_transaction(app, stub, conversation_id, run_jobs):
    """For macros: request_escalation adds to the caller's transaction without committing; a rollback
    leaves nothing, a commit then asking for escalations_requested makes the ticket."""
    with app.app_context():
        conversation = db.session.get(Conversation, conversation_id)
        request_escalation(conversation, None)
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Escalation)) == 0
        assert db.session.get(Conversation, conversation_id).status == "open"
        escalation, asked = request_escalation(db.session.get(Conversation, conversation_id), None)
        assert asked
        assert request_escalation(db.session.get(Conversation, conversation_id), None) == (escalation, False)
        db.session.commit()
        announce(signals.escalations_requested, escalation.id)
        db.session.remove()
    run_jobs()
    assert escalation_of(app, conversation_id).state == "created" and len(stub_tickets(stub)) == 1


def test_a_conversation_still_being_routed_or_not_visible_cannot_be_escalated(app, deliver, admin, token_for,
                                                                              client, conversation_id, counts):
    """Unrouted: 400 not_routed; someone else's queue or no such conversation: 404; nothing stored."""
    unrouted = deliver(make_post(text="just arrived", author={"id": "new1", "handle": "n"})).get_json()
    before = counts()
    response = admin("post", f"/conversations/{unrouted['conversation_id']}/escalate")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "not_routed"
    outsider = token_for("agent", email="olly@example.com")
    response = client.post(f"/api/v1/conversations/{conversation_id}/escalate",
                           headers={"Authorization": f"Bearer {outsider}"})
    assert response.status_code == 404
    assert admin("post", "/conversations/999999/escalate").status_code == 404
    assert counts() == before and escalation_of(app, conversation_id) is None


def test_failed_ticket_attempts_are_counted_for_metrics(app, stub_url, admin, conversation_id, run_jobs):
    """With nothing listening at the ticketing URL, the worker's failed attempt counts as an escalation failure."""
    before = REGISTRY.get_sample_value("switchboard_escalation_failures_total") or 0.0
    assert admin("post", f"/conversations/{conversation_id}/escalate").status_code == 202
    run_jobs()
    assert REGISTRY.get_sample_value("switchboard_escalation_failures_total") - before == 1
