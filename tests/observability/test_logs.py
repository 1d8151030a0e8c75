"""Log lines: JSON formatting, one line per request with its id, one per job, RQ's per-job lines at debug."""

import json
import logging

import pytest

from tests.factories import make_post
from workspace.extensions import db
from workspace.infra.broker import job_queue
from workspace.jobs import dispatch
from workspace.jobs.enqueue import enqueue
from workspace.jobs.tasks import conversations
from workspace.observability import logs


def test_json_lines_carry_the_message_and_the_extra_fields():
    """A record renders as one JSON object with its level, logger, message and extra fields."""
    record = logging.LogRecord("switchboard.job", logging.INFO, __file__, 1, "job %s done", ("j1",), None)
    record.job_id, record.args_seen = "j1", [1, 2]
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["msg"] == "job j1 done" and line["level"] == "info" and line["logger"] == "switchboard.job"
    assert line["job_id"] == "j1" and line["args_seen"] == [1, 2] and line["ts"].endswith("Z")


@pytest.fixture
def json_app(app):
    """The app in JSON log mode (as SWITCHBOARD_LOG_FORMAT=json sets it up)."""
    app.config["LOG_FORMAT"] = "json"  # read per request: the id and line hooks are always registered
    logs.configure(json_lines=True)
    return app


def test_a_webhook_logs_one_line_with_its_request_id_and_conversations(json_app, deliver, caplog):
    """In JSON mode each request logs one line; a sane X-Request-Id is kept and echoed, anything else replaced."""
    caplog.set_level(logging.INFO, logger="switchboard.request")
    response = deliver(make_post(), headers={"X-Request-Id": "sender-abc-123"})
    assert response.status_code == 202 and response.headers["X-Request-Id"] == "sender-abc-123"
    conversation_id = response.json["conversation_id"]
    bad = deliver(make_post(), headers={"X-Request-Id": "not a token; " + "x" * 80})
    assert " " not in bad.headers["X-Request-Id"] and len(bad.headers["X-Request-Id"]) == 32
    lines = [r for r in caplog.records if r.name == "switchboard.request"]
    assert len(lines) == 2
    first = lines[0]
    assert (first.request_id, first.status, first.method, first.path) == ("sender-abc-123", 202, "POST",
                                                                          "/webhooks/forum")
    assert first.conversation_ids == [conversation_id] and first.channel == "forum" and first.duration_ms >= 0
    assert json.loads(logs.JsonFormatter().format(first))["request_id"] == "sender-abc-123"


def test_a_job_logs_one_line_and_rq_per_job_lines_move_to_debug(json_app, deliver, run_jobs, caplog):
    """A worker run logs one line per job naming the conversations the webhook stored; RQ's own per-job
    INFO lines are not shown at INFO (they are DEBUG lines now)."""
    app = json_app
    caplog.set_level(logging.INFO)
    conversation_id = deliver(make_post(text="@billing charged twice")).json["conversation_id"]
    with app.app_context():
        dispatch.dispatch_once(10)
        db.session.remove()
    run_jobs()
    # The routing job's line (routed conversations then queue a notifications job, which has its own line).
    jobs = [r for r in caplog.records if r.name == "switchboard.job" and r.job_id.startswith("route-")]
    assert len(jobs) == 1
    assert jobs[0].function.endswith("route_conversations") and jobs[0].job_args == ([conversation_id],)
    assert jobs[0].status == "finished" and jobs[0].job_id.startswith("route-")
    rq_lines = [r.msg for r in caplog.records if r.name == "rq.worker"]
    assert rq_lines  # RQ still says it started and stopped
    assert not set(rq_lines) & logs.RQ_JOB_LINES


def test_in_text_mode_a_routine_job_line_is_a_debug_line_and_a_failure_a_warning(app, run_jobs, caplog):
    """Text logs are for a person at a terminal: a job that succeeded logs at debug (hidden by default), so
    the periodic jobs do not bury the start-up banner; a failed job still shows, as a warning."""
    logs.configure(json_lines=False)
    caplog.set_level(logging.DEBUG, logger="switchboard.job")
    with app.app_context():
        enqueue(conversations.assign_queues, [])
        job_queue().enqueue_call("builtins.int", args=("not a number",), job_id="broken")  # raises ValueError
        db.session.remove()
    run_jobs()
    levels = {record.job_id: record.levelno for record in caplog.records if record.name == "switchboard.job"}
    assert levels == {"assign-": logging.DEBUG, "broken": logging.WARNING}
