"""Escalation round trip between real processes: gunicorn, the RQ worker (with its scheduler) and the stub."""

import json
import re

import pytest
import requests

from devstack.localredis import free_port
from tests.factories import (
    SECRET,
    TICKETING_EMAIL,
    TICKETING_TOKEN,
    make_post,
    running,
    running_stub,
    ticketing_env,
    wait_for,
)
from workspace.channels.signature import sign


@pytest.fixture
def stack(app, channel, token, redis_url, tmp_path):
    """Web and worker processes pointed at a stub port (the stub itself is started by each test)."""
    port = free_port()
    with running(app, redis_url, tmp_path, **ticketing_env(f"http://127.0.0.1:{port}")) as base:
        yield base, port


def routed_conversation(base: str, headers: dict) -> int:
    body = json.dumps(make_post(text="@billing the app charged me twice", subject="Double charge")).encode()
    response = requests.post(f"{base}/webhooks/forum", data=body, timeout=10, headers={
        "Content-Type": "application/json", "X-Switchboard-Signature": sign(SECRET, body)})
    conversation_id = response.json()["conversation_id"]
    assert wait_for(lambda: conversation(base, headers, conversation_id)["status"] == "open")
    return conversation_id


def conversation(base: str, headers: dict, conversation_id: int) -> dict:
    return requests.get(f"{base}/api/v1/conversations/{conversation_id}", headers=headers, timeout=5).json()


@pytest.mark.slow
def test_escalate_solve_in_the_stub_and_the_conversation_hears_back(stack, token, tmp_path):
    """Escalate over HTTP, the worker creates the ticket, someone solves it on the stub's page with a reply, and
    its signed webhook puts the conversation back to open with an internal note quoting that reply."""
    base, port = stack
    headers = {"Authorization": f"Bearer {token}"}
    with running_stub(tmp_path, port, f"{base}/webhooks/ticketing/status") as stub:
        conversation_id = routed_conversation(base, headers)
        response = requests.post(f"{base}/api/v1/conversations/{conversation_id}/escalate", headers=headers,
                                 timeout=10)
        assert response.status_code == 202
        assert wait_for(lambda: conversation(base, headers, conversation_id)["escalation"]["state"] == "created")
        ticket = conversation(base, headers, conversation_id)["escalation"]
        assert ticket["ticket_url"] == f"{stub}/agent/tickets/{ticket['ticket_id']}"

        page = requests.Session()
        html = page.get(ticket["ticket_url"], timeout=5).text
        assert "Double charge" in html and "the app charged me twice" in html
        token_field = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        page.post(f"{stub}/agent/tickets/{ticket['ticket_id']}/status", timeout=5,
                  data={"status": "solved", "csrf_token": token_field, "back": "ticket",
                        "comment": "We refunded the second charge."}).raise_for_status()

        assert wait_for(lambda: conversation(base, headers, conversation_id)["status"] == "open")
        detail = conversation(base, headers, conversation_id)
        assert detail["escalation"]["ticket_status"] == "solved"
        assert [m["text"] for m in detail["messages"] if m["direction"] == "note"] == [
            f"Ticket #{ticket['ticket_id']} was solved in the ticketing system. Let the customer know.\n\n"
            "Their latest reply: We refunded the second charge."]
        # The stub notes the answer once it has it, just after Switchboard committed.
        assert wait_for(lambda: "HTTP 200" in page.get(ticket["ticket_url"], timeout=5).text)


@pytest.mark.slow
def test_stub_down_then_up_the_worker_retries_and_creates_one_ticket(stack, token, tmp_path):
    """With the stub down the escalation stays pending while the worker retries with backoff; once the stub
    starts, one ticket is created."""
    base, port = stack
    headers = {"Authorization": f"Bearer {token}"}
    conversation_id = routed_conversation(base, headers)
    requests.post(f"{base}/api/v1/conversations/{conversation_id}/escalate", headers=headers, timeout=10)
    assert wait_for(lambda: conversation(base, headers, conversation_id)["escalation"]["attempts"] >= 2)
    escalation = conversation(base, headers, conversation_id)["escalation"]
    assert escalation["state"] == "pending" and "ConnectionError" in escalation["last_error"]
    with running_stub(tmp_path, port) as stub:
        assert wait_for(lambda: conversation(base, headers, conversation_id)["escalation"]["state"] == "created")
        tickets = requests.get(f"{stub}/api/v2/tickets.json", auth=(f"{TICKETING_EMAIL}/token", TICKETING_TOKEN),
                               timeout=5).json()
        assert tickets["count"] == 1 and tickets["tickets"][0]["external_id"] == str(conversation_id)
