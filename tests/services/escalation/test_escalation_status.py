"""Escalation: ticket status coming back from the ticketing system by signed webhook, and escalating again
after the ticket is solved or closed."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
import sqlalchemy as sa

from tests.factories import TICKETING_SECRET
from tests.services.escalation.ticketing import AUTH, escalation_of, stub_tickets
from workspace.extensions import db
from workspace.models import NOT_DUE, AuditEntry, Conversation, Message
from workspace.services.escalation.signature import signed_headers


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
