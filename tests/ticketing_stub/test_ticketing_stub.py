"""The ticketing stub as its own server process, over HTTP: Zendesk's Tickets API subset, its page, its webhooks."""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from devstack.localredis import free_port
from tests.factories import TICKETING_EMAIL, TICKETING_SECRET, TICKETING_TOKEN, running_stub, wait_for
from workspace.services.escalation.client import TicketingClient, TicketingError
from workspace.services.escalation.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, signed_at

AUTH = (f"{TICKETING_EMAIL}/token", TICKETING_TOKEN)


class Receiver(ThreadingHTTPServer):
    """A local HTTP server that records the webhooks it is sent and answers each with the next status."""

    def __init__(self, statuses=()):
        self.received, self.statuses, self.arrived = [], list(statuses), threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler):  # noqa: N805 - the server is `self` here
                body = handler.rfile.read(int(handler.headers["Content-Length"]))
                self.received.append((dict(handler.headers), body))
                handler.send_response(self.statuses.pop(0) if self.statuses else 200)
                handler.end_headers()
                self.arrived.set()

            def log_message(handler, *args):  # noqa: N805
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


@pytest.fixture
def receiver():
    """A webhook receiver; the first answer is a 503, so the stub's retry shows."""
    server = Receiver(statuses=[503])
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def stub(tmp_path, receiver):
    """The stub's process on a free port, sending its webhooks to the receiver."""
    with running_stub(tmp_path, free_port(), receiver.url) as base:
        yield base


@pytest.fixture
def tickets(stub):
    """Switchboard's own client, pointed at the stub."""
    return TicketingClient(stub, email=TICKETING_EMAIL, token=TICKETING_TOKEN, timeout=5)


def new_ticket(**overrides) -> dict:
    ticket = {"subject": "Charged twice", "comment": {"body": "The thread", "public": False},
              "requester": {"name": "Maya", "email": "maya@example.com"}, "priority": "high",
              "tags": ["switchboard", "queue_billing"], "external_id": "17"}
    ticket.update(overrides)
    return ticket


@pytest.mark.slow
def test_create_answers_201_with_the_ticket_and_its_audit(stub):
    """POST /api/v2/tickets.json stores the ticket and answers as Zendesk does: 201, ticket, audit, Location."""
    response = requests.post(f"{stub}/api/v2/tickets.json", json={"ticket": new_ticket()}, auth=AUTH, timeout=5)
    assert response.status_code == 201
    body = response.json()
    ticket, audit = body["ticket"], body["audit"]
    assert (ticket["subject"], ticket["status"], ticket["priority"], ticket["external_id"]) == (
        "Charged twice", "new", "high", "17")
    assert ticket["description"] == "The thread" and ticket["tags"] == ["queue_billing", "switchboard"]
    assert ticket["url"] == f"{stub}/api/v2/tickets/{ticket['id']}.json" == response.headers["Location"]
    assert audit["ticket_id"] == ticket["id"]
    assert {"type": "Comment", "body": "The thread", "public": False}.items() <= audit["events"][0].items()
    assert requests.get(ticket["url"], auth=AUTH, timeout=5).json()["ticket"] == ticket


@pytest.mark.slow
def test_show_update_and_lookup_by_external_id(tickets):
    """The client shows, updates (status and a comment) and finds a ticket by its external_id."""
    created = tickets.create_ticket(new_ticket())
    assert tickets.show_ticket(created["id"])["subject"] == "Charged twice"
    updated = tickets.update_ticket(created["id"], {"status": "open", "comment": {"body": "On it"}})
    assert updated["status"] == "open" and updated["updated_at"] >= created["updated_at"]
    assert [t["id"] for t in tickets.find_by_external_id("17")] == [created["id"]]
    assert tickets.find_by_external_id("18") == []


@pytest.mark.slow
def test_list_pages_with_next_and_previous_links(stub, tickets):
    """GET /api/v2/tickets.json pages in id order with count, next_page and previous_page links."""
    ids = [tickets.create_ticket(new_ticket(external_id=str(n)))["id"] for n in range(5)]
    first = requests.get(f"{stub}/api/v2/tickets.json?per_page=2", auth=AUTH, timeout=5).json()
    assert [t["id"] for t in first["tickets"]] == ids[:2] and first["count"] == 5
    assert first["previous_page"] is None
    seen = [t["id"] for t in first["tickets"]]
    page = first
    while page["next_page"]:
        page = requests.get(page["next_page"], auth=AUTH, timeout=5).json()
        seen += [t["id"] for t in page["tickets"]]
    assert seen == ids
    assert page["previous_page"] is not None and "page=2" in page["previous_page"]
    for query in ("per_page=500", "page=0", "page=99999999999999999999999", "page=x"):
        bad = requests.get(f"{stub}/api/v2/tickets.json?{query}", auth=AUTH, timeout=5)
        assert bad.status_code == 400 and bad.json()["error"] == "InvalidPaginationParameter"


@pytest.mark.slow
def test_unknown_ticket_is_404_record_not_found(stub, tickets):
    """A ticket that does not exist is Zendesk's 404 RecordNotFound, for show and update alike."""
    for method, ticket_id in (("get", 999), ("put", 999), ("get", 10**30)):
        response = requests.request(method, f"{stub}/api/v2/tickets/{ticket_id}.json", json={"ticket": {}},
                                    auth=AUTH, timeout=5)
        assert response.status_code == 404
        assert response.json()["error"] == "RecordNotFound"
    with pytest.raises(TicketingError) as raised:
        tickets.show_ticket(999)
    assert raised.value.status == 404 and not raised.value.transient


@pytest.mark.slow
@pytest.mark.parametrize("ticket, field", [
    ({"subject": "no comment"}, "description"),
    (new_ticket(priority="asap"), "priority"),
    (new_ticket(status="done"), "status"),
    (new_ticket(tags="vip"), "tags"),
    (new_ticket(requester={"email": "not-an-address"}), "requester"),
    (new_ticket(comment={"body": "   "}), "comment"),
])
def test_invalid_tickets_are_422_record_invalid_with_details(stub, ticket, field):
    """Each invalid field is named in the 422's details, and nothing is stored."""
    response = requests.post(f"{stub}/api/v2/tickets.json", json={"ticket": ticket}, auth=AUTH, timeout=5)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "RecordInvalid" and field in body["details"]
    assert requests.get(f"{stub}/api/v2/tickets.json", auth=AUTH, timeout=5).json()["count"] == 0


@pytest.mark.slow
def test_a_closed_ticket_refuses_changes(tickets):
    """Zendesk closes tickets for good: an update is a 422 that says so."""
    ticket = tickets.create_ticket(new_ticket())
    tickets.update_ticket(ticket["id"], {"status": "closed"})
    with pytest.raises(TicketingError, match="closed prevents ticket update") as raised:
        tickets.update_ticket(ticket["id"], {"status": "open"})
    assert raised.value.status == 422


@pytest.mark.slow
@pytest.mark.parametrize("headers, auth", [
    ({}, None),
    ({}, (f"{TICKETING_EMAIL}/token", "wrong")),
    ({}, ("someone@example.com/token", TICKETING_TOKEN)),
    ({}, (TICKETING_EMAIL, TICKETING_TOKEN)),  # a password login, not an API token
    ({"Authorization": "Bearer wrong"}, None),
    ({"Authorization": "Basic !!!"}, None),
])
def test_bad_credentials_are_401(stub, headers, auth):
    """Without the API token (basic email/token:TOKEN, or as a bearer) every call is 401."""
    response = requests.get(f"{stub}/api/v2/tickets.json", headers=headers, auth=auth, timeout=5)
    assert response.status_code == 401
    assert response.json()["error"] == "Couldn't authenticate you"


@pytest.mark.slow
def test_oauth_bearer_token_is_accepted(stub):
    """The token also works as an OAuth bearer, as Zendesk's OAuth access tokens do."""
    client = TicketingClient(stub, token=TICKETING_TOKEN, timeout=5)
    assert client.create_ticket(new_ticket())["id"] == 1


@pytest.mark.slow
def test_status_changes_on_the_page_send_signed_webhooks(stub, tickets, receiver):
    """Changing a status on the page POSTs a Zendesk-signed webhook, retried after a 503; a forged form is refused."""
    ticket = tickets.create_ticket(new_ticket(subject="<script>alert(1)</script>"))
    browser = requests.Session()
    page = browser.get(f"{stub}/agent/tickets", timeout=5).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    forged = requests.post(f"{stub}/agent/tickets/{ticket['id']}/status", data={"status": "solved",
                           "csrf_token": token}, timeout=5)  # no cookie: another site's form
    assert forged.status_code == 400
    assert tickets.show_ticket(ticket["id"])["status"] == "new"
    changed = browser.post(f"{stub}/agent/tickets/{ticket['id']}/status", timeout=5,
                           data={"status": "solved", "csrf_token": token, "back": "ticket", "comment": "Refunded"})
    assert changed.status_code == 200 and changed.url.endswith(f"/agent/tickets/{ticket['id']}")
    assert tickets.show_ticket(ticket["id"])["status"] == "solved"
    assert wait_for(lambda: len(receiver.received) >= 2)
    (first_headers, first_body), (headers, body) = receiver.received[:2]
    assert first_body == body  # the 503 was retried with the same body
    assert signed_at(TICKETING_SECRET, headers, body) is not None
    assert signed_at("another-secret", headers, body) is None
    assert SIGNATURE_HEADER in headers and TIMESTAMP_HEADER in headers
    assert json.loads(body)["ticket"] == {**json.loads(body)["ticket"], "id": ticket["id"], "external_id": "17",
                                          "status": "solved", "previous_status": "new",
                                          "latest_public_comment": "Refunded"}
