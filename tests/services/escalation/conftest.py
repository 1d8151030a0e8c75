"""Fixtures of the escalation tests: the ticketing stub's process, Ada's API calls, and a routed
conversation to escalate."""


import pytest

from devstack.localredis import free_port
from tests.factories import TICKETING_EMAIL, TICKETING_SECRET, TICKETING_TOKEN, make_post, running_stub
from workspace.jobs.dispatch import dispatch_once


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
