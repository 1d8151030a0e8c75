"""The real thing: gunicorn and an RQ worker as the Procfile runs them, over real HTTP."""

import json
import time

import pytest
import requests

from tests.factories import SECRET, make_post, running
from workspace.channels.signature import sign


@pytest.fixture
def stack(app, channel, token, redis_url, tmp_path):
    """Web and worker processes on the test database and Redis; yields the base URL."""
    with running(app, redis_url, tmp_path) as base:
        yield base


@pytest.mark.slow
def test_signed_post_is_routed_by_a_real_worker_and_readable_through_the_api(stack, token):
    """POST a signed webhook to gunicorn; the worker routes it; the API shows it in its queue."""
    body = json.dumps(make_post(text="@billing I was charged twice for one order")).encode()
    started = time.monotonic()
    response = requests.post(f"{stack}/webhooks/forum", data=body, timeout=10, headers={
        "Content-Type": "application/json", "X-Switchboard-Signature": sign(SECRET, body)})
    assert response.status_code == 202, response.text
    conversation_id = response.json()["conversation_id"]
    headers = {"Authorization": f"Bearer {token}"}
    detail = {}
    while time.monotonic() - started < 20:
        detail = requests.get(f"{stack}/api/v1/conversations/{conversation_id}", headers=headers, timeout=5).json()
        if detail["status"] == "open":
            break
        time.sleep(0.02)
    elapsed = time.monotonic() - started
    print(f"webhook to routed conversation: {elapsed * 1000:.0f} ms")
    assert detail["status"] == "open" and detail["queue"] == "billing"
    assert detail["explanation"]["queue_reason"]
    listed = requests.get(f"{stack}/api/v1/queues/billing/conversations", headers=headers, timeout=5).json()
    assert [c["id"] for c in listed["data"]] == [conversation_id]
    again = requests.post(f"{stack}/webhooks/forum", data=body, timeout=10, headers={
        "Content-Type": "application/json", "X-Switchboard-Signature": sign(SECRET, body)})
    assert again.status_code == 200 and again.json()["conversation_id"] == conversation_id
