"""Escalation in a real browser: the Escalate button and its shortcut, the ticket's number appearing live,
and the ticket's status coming back from the stub."""

import re

import pytest
import requests

from devstack.localredis import free_port
from tests.console.test_console import post_webhook
from tests.factories import make_post, running, running_stub, ticketing_env


@pytest.fixture
def stub_port():
    """The port the ticketing stub listens on."""
    return free_port()


@pytest.fixture
def live_server(app, people, redis_url, tmp_path, stub_port):
    """Web and worker as the Procfile runs them, pointed at the ticketing stub, which runs too."""
    with running(app, redis_url, tmp_path, SWITCHBOARD_DISPATCH_POLL_SECONDS="0.5",
                 **ticketing_env(f"http://127.0.0.1:{stub_port}")) as base:
        with running_stub(tmp_path, stub_port, f"{base}/webhooks/ticketing/status"):
            yield base


def open_routed(page, base: str, conversation_id: int) -> None:
    page.goto(f"{base}/conversations/{conversation_id}")
    page.wait_for_selector("#thread .message.inbound")
    page.wait_for_function("() => document.querySelector('#conv-status').value === 'open'")


def solve_in_stub(ticket_url: str) -> None:
    session = requests.Session()
    html = session.get(ticket_url, timeout=5).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    session.post(f"{ticket_url}/status", data={"status": "solved", "csrf_token": token}, timeout=5).raise_for_status()


def test_escalate_shows_the_ticket_number_then_its_solved_status(open_console, live_server, stub_port):
    """Click Escalate: the ticket's number and link appear without a reload; solving it in the stub shows
    solved, reopens the conversation, adds the internal note and offers to escalate again."""
    conversation_id = post_webhook(live_server, make_post(text="@billing my refund never arrived"))
    page = open_console("ana@example.com")
    open_routed(page, live_server, conversation_id)
    page.click("#escalate")
    page.wait_for_selector("#conv-ticket a.ticket", timeout=20000)
    assert page.inner_text("#conv-ticket a.ticket") == "Ticket #1"
    link = page.get_attribute("#conv-ticket a.ticket", "href")
    assert link == f"http://127.0.0.1:{stub_port}/agent/tickets/1"
    assert page.is_hidden("#escalate") and page.text_content("#conv-ticket .ticket-status") == "new"
    assert page.input_value("#conv-status") == "escalated"
    solve_in_stub(link)
    page.wait_for_function("() => document.querySelector('#conv-ticket .ticket-status').textContent === 'solved'",
                           timeout=20000)
    page.wait_for_function("() => document.querySelector('#conv-status').value === 'open'")
    assert "Ticket #1 was solved" in page.inner_text("#thread .message.note")
    assert "Switchboard (internal note)" in page.inner_text("#thread .message.note .by")
    assert page.is_visible("#escalate") and page.inner_text("#escalate") == "Escalate again"
    assert page.errors == []


def test_the_t_key_escalates_once(open_console, live_server):
    """Pressing t escalates the open conversation; pressing it again makes no second ticket."""
    conversation_id = post_webhook(live_server, make_post(text="@billing charged twice"))
    page = open_console("ana@example.com")
    open_routed(page, live_server, conversation_id)
    page.keyboard.press("t")
    page.wait_for_selector("#conv-ticket .ticket")
    page.keyboard.press("t")
    page.wait_for_selector("#conv-ticket a.ticket", timeout=20000)
    assert page.inner_text("#conv-ticket a.ticket") == "Ticket #1"
    assert page.errors == []
