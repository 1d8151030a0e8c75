"""Escalation: one click makes one ticket in the stub (a real server process) through a real RQ worker;
the ticketing system down, Redis down, retries, and ticket status coming back by signed webhook."""

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
import requests
import sqlalchemy as sa

from devstack.localredis import free_port
from tests.factories import TICKETING_EMAIL, TICKETING_SECRET, TICKETING_TOKEN, make_post, running_stub, wait_for
from workspace.extensions import db
from workspace.infra.broker import job_queue, redis_client
from workspace.jobs.dispatch import dispatch_once, sweep
from workspace.jobs.worker import AppWorker
from workspace.live import signals
from workspace.live.changes import announce
from workspace.models import NOT_DUE, AuditEntry, Conversation, Escalation, Message
from workspace.services.escalation.signature import signed_headers
from workspace.services.escalation.tickets import request_escalation

AUTH = (f"{TICKETING_EMAIL}/token", TICKETING_TOKEN)


@pytest.fixture
def stub_url(app):
    """Where the stub listens (started by `stub`, or later by a test); the app is pointed at it."""
    url = f"http://127.0.0.1:{free_port()}"
    app.config.update(TICKETING_URL=url, TICKETING_EMAIL=TICKETING_EMAIL, TICKETING_TOKEN=TICKETING_TOKEN,
                      TICKETING_WEBHOOK_SECRET=TICKETING_SECRET, TICKETING_TIMEOUT_SECONDS=3,
                      ESCALATION_RETRY_SECONDS=[1, 1, 1], PUBLIC_URL="https://switchboard.example")
    return url


@pytest.fixture
def stub(stub_url, tmp_path):
    """The ticketing stub's own process (Procfile `tickets`)."""
    with running_stub(tmp_path, int(stub_url.rsplit(":", 1)[1])) as base:
        yield base


def stub_tickets(base: str, external_id: str | None = None) -> list[dict]:
    query = {"external_id": external_id} if external_id else {}
    return requests.get(f"{base}/api/v2/tickets.json", params=query, auth=AUTH, timeout=5).json()["tickets"]


@pytest.fixture
def admin(client, token):
    """Call the API as Ada (admin): admin('post', path, json=...)."""

    def call(method, path, **kwargs):
        return getattr(client, method)(f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, **kwargs)

    return call


@pytest.fixture
def conversation_id(app, deliver, run_jobs, admin):
    """A routed billing conversation from Maya, with a note and tags."""
    post = make_post(text="@billing I was charged twice for my plan", subject="Charged twice",
                     author={"id": "u9", "handle": "maya", "name": "Maya Lin", "email": "maya@example.com"})
    conversation = deliver(post).get_json()["conversation_id"]
    with app.app_context():
        dispatch_once(100)
    run_jobs()
    admin("post", f"/conversations/{conversation}/notes", json={"text": "Refund system shows two captures"})
    admin("patch", f"/conversations/{conversation}", json={"tags": ["refund", "double charge"], "priority": "high"})
    return conversation


def escalation_of(app, conversation: int) -> Escalation | None:
    with app.app_context():
        escalation = db.session.scalar(sa.select(Escalation).where(Escalation.conversation_id == conversation))
        db.session.expunge_all()
        return escalation


def work_with_scheduler(app) -> None:
    """A real worker in burst mode that also starts retries whose backoff has passed."""
    with app.app_context():
        AppWorker([job_queue()], connection=redis_client()).work(burst=True, with_scheduler=True)
        db.session.remove()


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


# ---------- status coming back by webhook


def send_status(client, ticket_id, status, *, secret=TICKETING_SECRET, external_id=None, at=None, headers=None,
                comment=""):
    body = json.dumps({"ticket": {"id": str(ticket_id), "status": status, "external_id": external_id,
                                  "latest_public_comment": comment}}).encode()
    sent = {"Content-Type": "application/json", **signed_headers(secret, body, at)}
    sent.update(headers or {})
    return client.post("/webhooks/ticketing/status", data=body, headers={k: v for k, v in sent.items() if v})


@pytest.fixture
def ticket_id(app, stub, admin, conversation_id, run_jobs):
    """The conversation escalated and its ticket created."""
    admin("post", f"/conversations/{conversation_id}/escalate")
    run_jobs()
    return escalation_of(app, conversation_id).ticket_id


def notes(admin, conversation_id) -> list[str]:
    messages = admin("get", f"/conversations/{conversation_id}").get_json()["messages"]
    return [m["text"] for m in messages if m["direction"] == "note"]


def test_solved_ticket_reopens_the_conversation_with_an_internal_note(app, client, admin, conversation_id,
                                                                      ticket_id):
    """Solved: the conversation goes back to open for the closing reply, with a note; reopened: escalated again."""
    response = send_status(client, ticket_id, "Solved")  # Zendesk placeholders render statuses capitalised
    assert response.status_code == 200, response.get_json()
    detail = admin("get", f"/conversations/{conversation_id}").get_json()
    assert detail["status"] == "open" and detail["escalation"]["ticket_status"] == "solved"
    assert notes(admin, conversation_id)[-1] == f"Ticket #{ticket_id} was solved in the ticketing system. " \
                                                "Let the customer know."
    assert send_status(client, ticket_id, "solved").status_code == 200  # a repeat changes nothing
    assert len(notes(admin, conversation_id)) == 2
    send_status(client, ticket_id, "open", comment="Sorry, <b>checking</b> again")
    detail = admin("get", f"/conversations/{conversation_id}").get_json()
    assert detail["status"] == "escalated"
    assert notes(admin, conversation_id)[-1] == f"Ticket #{ticket_id} was reopened (open) in the ticketing system." \
                                                "\n\nTheir latest reply: Sorry, <b>checking</b> again"
    with app.app_context():
        entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "escalation.ticket_status")
                                   .order_by(AuditEntry.id)).first()
        assert (entry.before, entry.after) == ({"ticket_status": "new", "status": "escalated"},
                                               {"ticket_status": "solved", "status": "open"})


def test_sla_clocks_pause_while_escalated_and_resume_when_the_ticket_is_solved(app, client, admin, conversation_id,
                                                                               ticket_id):
    """Escalated: the SLA shows paused and nothing is due; solved two hours later: due two hours later than before."""
    with app.app_context():
        escalated = db.session.get(Conversation, conversation_id)
        assert escalated.sla_paused_at is not None and escalated.sla_due_at == NOT_DUE
        # As if it all happened two hours earlier: the ticket has been open for two hours.
        escalated.sla_paused_at -= timedelta(hours=2)
        escalated.sla_clock = {target: {**entry, **{key: (datetime.fromisoformat(entry[key]) - timedelta(hours=2))
                                                      .isoformat() for key in ("started_at", "due_at", "at_risk_at")}}
                               for target, entry in escalated.sla_clock.items()}
        due_before = datetime.fromisoformat(escalated.sla_clock["first_reply"]["due_at"])
        db.session.commit()
    assert admin("get", f"/conversations/{conversation_id}").get_json()["sla"]["paused"] is True
    assert send_status(client, ticket_id, "solved").status_code == 200
    detail = admin("get", f"/conversations/{conversation_id}").get_json()
    assert detail["status"] == "open" and detail["sla"]["paused"] is False
    due_after = datetime.fromisoformat(detail["sla"]["targets"]["first_reply"]["due_at"].replace("Z", "+00:00"))
    assert timedelta(hours=2) <= due_after - due_before < timedelta(hours=2, minutes=1)
    assert send_status(client, ticket_id, "open").status_code == 200  # reopened: paused again
    assert admin("get", f"/conversations/{conversation_id}").get_json()["sla"]["paused"] is True


def test_an_older_status_arriving_late_changes_nothing(admin, client, conversation_id, ticket_id):
    """Webhooks can arrive out of order: a change sent before the one applied is ignored."""
    now = datetime.now(UTC)
    send_status(client, ticket_id, "solved", at=now)
    assert send_status(client, ticket_id, "open", at=now - timedelta(seconds=30)).status_code == 200
    detail = admin("get", f"/conversations/{conversation_id}").get_json()
    assert detail["status"] == "open" and detail["escalation"]["ticket_status"] == "solved"


@pytest.mark.parametrize("tamper", ["unsigned", "wrong secret", "replayed", "other body"])
def test_bad_or_unsigned_status_webhooks_are_refused_and_change_nothing(app, client, admin, conversation_id,
                                                                        ticket_id, tamper):
    """401 for no signature, another secret, a stale timestamp, or a signature of another body."""
    if tamper == "unsigned":
        response = send_status(client, ticket_id, "solved", headers={"X-Zendesk-Webhook-Signature": "",
                                                                    "X-Zendesk-Webhook-Signature-Timestamp": ""})
    elif tamper == "wrong secret":
        response = send_status(client, ticket_id, "solved", secret="guess")
    elif tamper == "replayed":
        response = send_status(client, ticket_id, "solved", at=datetime.now(UTC) - timedelta(minutes=10))
    else:
        other = json.dumps({"ticket": {"id": ticket_id, "status": "open"}}).encode()
        response = send_status(client, ticket_id, "solved", headers=signed_headers(TICKETING_SECRET, other))
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "bad_signature"
    detail = admin("get", f"/conversations/{conversation_id}").get_json()
    assert detail["status"] == "escalated" and detail["escalation"]["ticket_status"] == "new"
    assert len(notes(admin, conversation_id)) == 1


@pytest.mark.parametrize("payload, status", [
    ({"ticket": {"id": "abc", "status": "solved"}}, 400),
    ({"ticket": {"id": 10**30, "status": "solved"}}, 400),
    ({"ticket": {"id": 1, "status": "finished"}}, 400),
    ({"ticket": {"id": 1, "status": "solved", "latest_public_comment": {"body": "x"}}}, 400),
    ({"status": "solved"}, 400),
    ([1, 2], 400),
    ({"ticket": {"id": 987654, "status": "solved"}}, 404),
])
def test_malformed_or_unknown_status_webhooks_are_refused(client, ticket_id, payload, status):
    """Signed but malformed: 400 naming the field; a ticket no escalation has: 404."""
    body = json.dumps(payload).encode()
    response = client.post("/webhooks/ticketing/status", data=body,
                           headers={"Content-Type": "application/json", **signed_headers(TICKETING_SECRET, body)})
    assert response.status_code == status


def test_a_status_webhook_before_the_job_heard_back_finds_the_escalation_by_external_id(
        app, client, admin, conversation_id, stub):
    """If the ticketing system reports a ticket before the job recorded it, the external_id links them."""
    admin("post", f"/conversations/{conversation_id}/escalate")
    response = send_status(client, 55, "open", external_id=str(conversation_id))
    assert response.status_code == 200
    escalation = escalation_of(app, conversation_id)
    assert (escalation.state, escalation.ticket_id, escalation.ticket_status) == ("created", 55, "open")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
            Message.direction == "note")) == 1


def test_escalating_again_after_the_ticket_is_solved_reopens_the_same_ticket(app, client, admin, stub, run_jobs,
                                                                            conversation_id, ticket_id):
    """Once the ticket is solved, escalating again reopens it with what happened since, as a private comment."""
    requests.put(f"{stub}/api/v2/tickets/{ticket_id}.json", json={"ticket": {"status": "solved"}}, auth=AUTH,
                 timeout=5).raise_for_status()
    send_status(client, ticket_id, "solved")
    admin("post", f"/conversations/{conversation_id}/notes", json={"text": "Customer: charged a third time"})
    response = admin("post", f"/conversations/{conversation_id}/escalate")
    assert response.status_code == 202
    assert response.get_json()["status"] == "escalated"
    assert response.get_json()["escalation"]["state"] == "pending"
    run_jobs()
    [ticket] = stub_tickets(stub)
    assert (ticket["id"], ticket["status"]) == (ticket_id, "open")
    page = requests.get(f"{stub}/agent/tickets/{ticket_id}", timeout=5).text
    assert "Escalated again from Switchboard" in page and "charged a third time" in page
    escalation = admin("get", f"/conversations/{conversation_id}").get_json()["escalation"]
    assert (escalation["state"], escalation["ticket_id"], escalation["ticket_status"]) == ("created", ticket_id,
                                                                                           "open")
    assert admin("post", f"/conversations/{conversation_id}/escalate").status_code == 200  # open: nothing to do


def test_escalating_again_after_the_ticket_is_closed_makes_a_follow_up_ticket(app, client, admin, stub, run_jobs,
                                                                             conversation_id, ticket_id):
    """A closed ticket cannot change, so escalating again creates a follow-up ticket and links it instead."""
    requests.put(f"{stub}/api/v2/tickets/{ticket_id}.json", json={"ticket": {"status": "closed"}}, auth=AUTH,
                 timeout=5).raise_for_status()
    send_status(client, ticket_id, "closed")
    assert admin("post", f"/conversations/{conversation_id}/escalate").status_code == 202
    run_jobs()
    first, follow_up = stub_tickets(stub, str(conversation_id))
    assert (first["id"], first["status"], follow_up["status"]) == (ticket_id, "closed", "new")
    assert escalation_of(app, conversation_id).ticket_id == follow_up["id"]
    assert send_status(client, ticket_id, "closed").status_code == 404  # the old ticket is no longer linked
