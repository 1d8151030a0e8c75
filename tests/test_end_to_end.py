"""The real thing: gunicorn and an RQ worker as the Procfile runs them, over real HTTP."""

import json
import os
import time
import uuid

import pytest
import requests

from tests.conftest import SECRET, make_post
from workspace.ingest.signature import sign
from workspace.launcher import start_process, stop_process, wait_healthy
from workspace.localredis import free_port


@pytest.fixture
def stack(app, channel, token, database_url, redis_url, tmp_path):
    """Web and worker processes on the test database and Redis; yields the base URL."""
    port = free_port()
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url, PORT=str(port),
               SWITCHBOARD_RQ_QUEUE=app.config["RQ_QUEUE"], SWITCHBOARD_SECRET_KEY="e2e-" + uuid.uuid4().hex,
               PATH=f"{os.path.dirname(os.sys.executable)}{os.pathsep}{os.environ['PATH']}")
    logs = {name: open(tmp_path / f"{name}.log", "w") for name in ("web", "worker")}
    processes = [start_process(name, env, stdout=logs[name], stderr=logs[name]) for name in ("web", "worker")]
    base = f"http://127.0.0.1:{port}"
    try:
        if not wait_healthy(base, timeout=60):
            pytest.fail("web process did not become healthy:\n" + (tmp_path / "web.log").read_text())
        yield base
    finally:
        for process in processes:
            stop_process(process)
        for handle in logs.values():
            handle.close()


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
