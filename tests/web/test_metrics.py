"""GET /metrics: who may read it, and that webhooks, routing jobs and live figures show in it."""

import json
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import SECRET, make_config, make_post, running
from tests.web.test_auth import socket_app  # noqa: F401  (fixture)
from workspace import create_app
from workspace.channels.signature import sign
from workspace.extensions import db, socketio
from workspace.jobs import dispatch
from workspace.models import Author, Conversation

METRICS_TOKEN = "scrape-me"


@pytest.fixture
def scraper(app):
    """The app with a metrics token configured; returns a function that scrapes it into {(name, labels): value}."""
    app.config["METRICS_TOKEN"] = METRICS_TOKEN
    client = app.test_client()

    def scrape(token=METRICS_TOKEN) -> dict:
        response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        assert response.content_type.startswith("text/plain; version=0.0.4")
        return samples(response.text)

    return scrape


def samples(text: str) -> dict:
    """Parse an exposition into {(sample name, sorted label pairs): value}."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(figures: dict, name: str, **labels) -> float:
    """One sample's value (0 when absent: a labelled counter appears on its first increment)."""
    return figures.get((name, tuple(sorted((k, str(v)) for k, v in labels.items()))), 0.0)


def test_metrics_refuse_a_missing_or_wrong_token(client, app, token_for):
    """Without a bearer token, or with a wrong one, /metrics answers 401; a non-admin's API token gets 403."""
    app.config["METRICS_TOKEN"] = METRICS_TOKEN
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Basic {METRICS_TOKEN}"}).status_code == 401
    agent = token_for("agent")
    assert client.get("/metrics", headers={"Authorization": f"Bearer {agent}"}).status_code == 403


def test_metrics_accept_the_metrics_token_or_an_admins_token(client, app, token):
    """The configured metrics token and an admin's API token both read /metrics."""
    app.config["METRICS_TOKEN"] = METRICS_TOKEN
    for secret in (METRICS_TOKEN, token):
        assert client.get("/metrics", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


def test_metrics_without_a_configured_token_take_only_admin_tokens(client, app, token):
    """With no SWITCHBOARD_METRICS_TOKEN, an empty or guessed token is refused and an admin's is accepted."""
    app.config["METRICS_TOKEN"] = None
    assert client.get("/metrics", headers={"Authorization": "Bearer None"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_webhook_answers_are_counted_by_channel_and_status(scraper, deliver):
    """Stored, duplicate, badly signed and unknown-channel webhooks each move their own counter."""
    before = scraper()
    post = make_post()
    assert deliver(post).status_code == 202
    assert deliver(post).status_code == 200
    assert deliver(make_post(), secret="wrong").status_code == 401
    assert deliver(make_post(), slug="nowhere").status_code == 404
    after = scraper()
    name = "switchboard_webhook_responses_total"
    for channel, status in (("forum", 202), ("forum", 200), ("forum", 401), ("unknown", 404)):
        assert value(after, name, channel=channel, status=status) - value(before, name, channel=channel,
                                                                          status=status) == 1
    stored = value(after, "switchboard_ingest_seconds_count") - value(before, "switchboard_ingest_seconds_count")
    assert stored == 2  # the duplicate was committed too (as a duplicate); refused ones never reach the commit


def test_outbox_routing_and_rq_figures_follow_a_post_through_a_real_worker(scraper, deliver, app, run_jobs):
    """A stored post shows in the outbox, then as a queued RQ job, then in the routing histograms."""
    assert deliver(make_post(text="@billing I was charged twice")).status_code == 202
    waiting = scraper()
    assert value(waiting, "switchboard_outbox_depth") == 1
    assert value(waiting, "switchboard_outbox_oldest_age_seconds") >= 0
    with app.app_context():
        dispatch.dispatch_once(10)
        db.session.remove()
    time.sleep(0.01)  # so the waiting job's age is above zero on any clock
    queued = scraper()
    assert value(queued, "switchboard_outbox_depth") == 0
    assert value(queued, "switchboard_rq_jobs", queue=app.config["RQ_QUEUE"], state="queued") == 1
    assert value(queued, "switchboard_rq_oldest_queued_age_seconds", queue=app.config["RQ_QUEUE"]) > 0
    run_jobs()
    routed = scraper()
    assert value(routed, "switchboard_rq_jobs", queue=app.config["RQ_QUEUE"], state="queued") == 0
    assert value(routed, "switchboard_rq_oldest_queued_age_seconds", queue=app.config["RQ_QUEUE"]) == 0
    for histogram in ("switchboard_routing_job_seconds_count", "switchboard_routing_latency_seconds_count"):
        assert value(routed, histogram) - value(queued, histogram) == 1
    assert value(routed, "switchboard_metrics_source_up", source="database") == 1
    assert value(routed, "switchboard_metrics_source_up", source="redis") == 1
    assert value(routed, "switchboard_sla_conversations", state="breached") == 0


def test_sla_figures_count_open_conversations_at_risk_and_breached(scraper, app, channel):
    """The SLA gauges count open conversations by the SLA engine's status; a resolved one is not counted."""
    with app.app_context():
        author = Author(channel_id=1, external_id="u1", handle="maya", name="Maya")
        db.session.add(author)
        db.session.flush()
        for status, sla_status in (("open", "at_risk"), ("open", "breached"), ("open", "breached"),
                                   ("resolved", "breached"), ("open", None)):
            db.session.add(Conversation(channel_id=1, author_id=author.id, status=status, sla_status=sla_status))
        db.session.commit()
        db.session.remove()
    figures = scraper()
    assert value(figures, "switchboard_sla_conversations", state="at_risk") == 1
    assert value(figures, "switchboard_sla_conversations", state="breached") == 2


def test_a_dead_redis_is_reported_not_fatal(database_url, tmp_path, token):
    """With Redis unreachable, /metrics still answers, saying the Redis source is down."""
    app = create_app(make_config(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'db.sqlite'}",
                                 REDIS_URL="redis://127.0.0.1:1/0", METRICS_TOKEN=METRICS_TOKEN))
    with app.app_context():
        db.create_all()
    response = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    figures = samples(response.text)
    assert value(figures, "switchboard_metrics_source_up", source="redis") == 0
    assert value(figures, "switchboard_metrics_source_up", source="database") == 1
    with app.app_context():
        db.engine.dispose()


@pytest.mark.slow
def test_web_and_worker_processes_both_contribute_in_multiprocess_mode(app, channel, redis_url, tmp_path):
    """Under PROMETHEUS_MULTIPROC_DIR, one scrape of the web process sums its webhook counters and the
    worker's routing histograms, each written by a different process."""
    folder = tmp_path / "prometheus"
    with running(app, redis_url, tmp_path, PROMETHEUS_MULTIPROC_DIR=str(folder),
                 SWITCHBOARD_METRICS_TOKEN=METRICS_TOKEN) as base:
        for number in range(3):  # three authors: three conversations to route
            body = json.dumps(make_post(text="@billing I was charged twice",
                                        author={"id": f"u{number}", "handle": f"maya{number}"})).encode()
            response = requests.post(f"{base}/webhooks/forum", data=body, timeout=10, headers={
                "Content-Type": "application/json", "X-Switchboard-Signature": sign(SECRET, body)})
            assert response.status_code == 202, response.text
        assert requests.get(f"{base}/metrics", timeout=10).status_code == 401
        figures = {}
        for _ in range(200):
            figures = samples(requests.get(f"{base}/metrics", timeout=10,
                                           headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text)
            if value(figures, "switchboard_routing_latency_seconds_count") == 3:
                break
            time.sleep(0.05)
    assert value(figures, "switchboard_webhook_responses_total", channel="forum", status=202) == 3
    assert value(figures, "switchboard_ingest_seconds_count") == 3
    assert value(figures, "switchboard_routing_latency_seconds_count") == 3
    assert value(figures, "switchboard_routing_job_seconds_count") >= 1
    writers = {path.name for path in folder.glob("*.db")}
    assert len({name.rsplit("_", 1)[-1] for name in writers}) >= 2, writers  # files of two pids at least


def test_socketio_clients_count_accepted_connections_while_they_are_open(scraper, socket_app, token):  # noqa: F811
    """Each accepted console connection adds one while it is open; a refused one adds nothing."""
    console_app = socket_app
    before = value(scraper(), "switchboard_socketio_clients")
    refused = socketio.test_client(console_app, flask_test_client=console_app.test_client())
    assert not refused.is_connected()
    consoles = [socketio.test_client(console_app, auth={"token": token}) for _ in range(2)]
    assert all(console.is_connected() for console in consoles)
    assert value(scraper(), "switchboard_socketio_clients") - before == 2
    consoles[0].disconnect()
    assert value(scraper(), "switchboard_socketio_clients") - before == 1
    consoles[1].disconnect()
    assert value(scraper(), "switchboard_socketio_clients") == before
