"""A post can be followed by its request id: the webhook's answer and log line, the routing job's meta and
log line, and the `conversation.created` event a console receives."""

import json
import logging
import time

import pytest
import requests

from tests.factories import SECRET, make_post, running_many, wait_for
from workspace.channels.signature import sign
from workspace.extensions import db
from workspace.infra.broker import job_queue
from workspace.jobs import dispatch
from workspace.jobs.enqueue import enqueue
from workspace.jobs.tasks import conversations
from workspace.live import trace
from workspace.observability import logs


def test_every_request_gets_an_id_in_text_mode_too(client):
    """Without JSON logs the answer still carries an id: the caller's when sane, a new one otherwise."""
    assert client.get("/ping", headers={"X-Request-Id": "probe-000123"}).headers["X-Request-Id"] == "probe-000123"
    made = client.get("/ping", headers={"X-Request-Id": "bad id\" injected=\"1"}).headers["X-Request-Id"]
    assert len(made) == 32 and made.isalnum()
    assert trace.current() == {}  # the request's trace does not outlive it


def test_a_webhooks_request_id_reaches_the_routing_jobs_meta_line_and_event(app, deliver, run_jobs, emitted,
                                                                             caplog):
    """The routing job a webhook's post lands in carries the webhook's request id in its meta; the worker's
    line for that job and the conversation.created event both name it, beside the job id."""
    app.config["LOG_FORMAT"] = "json"  # a routine job's line is an info line in JSON mode
    logs.configure(json_lines=True)
    caplog.set_level(logging.INFO, logger="switchboard.job")
    answer = deliver(make_post(text="@billing charged twice"), headers={"X-Request-Id": "forum-delivery-0001"})
    conversation_id = answer.json["conversation_id"]
    other = deliver(make_post(author={"id": "someone-else", "handle": "s"}))  # its own, generated id
    with app.app_context():
        dispatch.dispatch_once(10)
        (job_id,) = job_queue().job_ids
        meta = job_queue().fetch_job(job_id).meta
        db.session.remove()
    assert meta["request_ids"] == {str(conversation_id): "forum-delivery-0001",
                                   str(other.json["conversation_id"]): other.headers["X-Request-Id"]}
    run_jobs()
    (line,) = [record for record in caplog.records if record.name == "switchboard.job" and record.job_id == job_id]
    assert line.status == "finished"
    assert line.request_ids == sorted(["forum-delivery-0001", other.headers["X-Request-Id"]])
    assert json.loads(logs.JsonFormatter().format(line))["request_ids"] == line.request_ids
    events = [data for name, _, data in emitted if name == "conversation.created"]
    traced = [event["trace"] for event in events if conversation_id in [c["id"] for c in event["conversations"]]]
    assert traced and traced[0]["job_id"] == job_id
    assert traced[0]["request_ids"][str(conversation_id)] == "forum-delivery-0001"


def test_a_job_enqueued_while_a_request_is_served_carries_its_id(app, run_jobs, caplog):
    """A job enqueued under a request's trace (as an agent's action enqueues delivery or assignment) has the
    request's id in its meta, and the worker's line for it names the id."""
    caplog.set_level(logging.DEBUG, logger="switchboard.job")
    with app.app_context():
        with trace.bound(request_id="agent-action-000042"):
            job = enqueue(conversations.assign_queues, [])
        assert job.meta == {"request_id": "agent-action-000042"}
        assert enqueue(conversations.assign_queues, [1]).meta == {}  # outside a request: nothing to name
        db.session.remove()
    run_jobs()
    lines = {record.job_id: record for record in caplog.records if record.name == "switchboard.job"}
    assert lines[job.id].request_id == "agent-action-000042"
    assert not hasattr(lines["assign-1"], "request_id")


@pytest.mark.slow
def test_the_ids_link_across_real_web_and_worker_processes(app, channel, redis_url, tmp_path):
    """With JSON logs, a signed webhook sent to a real web process: its request id is on the web's request
    line and on the real worker's line for the routing job that took its conversation."""
    with running_many(app, redis_url, tmp_path, webs=1, workers=1, SWITCHBOARD_LOG_FORMAT="json") as (base,):
        body = json.dumps(make_post()).encode()
        answer = requests.post(f"{base}/webhooks/{channel}", data=body, timeout=30, headers={
            "Content-Type": "application/json", "X-Switchboard-Signature": sign(SECRET, body),
            "X-Request-Id": "soak-trace-000777"})
        assert answer.status_code == 202 and answer.headers["X-Request-Id"] == "soak-trace-000777"
        conversation_id = answer.json()["conversation_id"]

        def job_lines() -> list[dict]:
            return [line for line in json_lines(tmp_path / "worker.log") if line.get("logger") == "switchboard.job"]

        assert wait_for(lambda: any("soak-trace-000777" in line.get("request_ids", []) for line in job_lines()),
                        timeout=60)
        time.sleep(0.2)
        web = [line for line in json_lines(tmp_path / "web.log") if line.get("logger") == "switchboard.request"]
    (request_line,) = [line for line in web if line["request_id"] == "soak-trace-000777"]
    assert request_line["conversation_ids"] == [conversation_id] and request_line["status"] == 202
    (job_line,) = [line for line in job_lines() if "soak-trace-000777" in line.get("request_ids", [])]
    assert job_line["job_args"] == [[conversation_id]] and job_line["status"] == "finished"
    assert job_line["function"].endswith("route_conversations") and job_line["job_id"].startswith("route-")


def json_lines(path) -> list[dict]:
    """The JSON lines of a process's log (its other lines, such as gunicorn's own, are skipped)."""
    found = []
    for text in path.read_text().splitlines():
        try:
            found.append(json.loads(text))
        except ValueError:
            continue
    return found
