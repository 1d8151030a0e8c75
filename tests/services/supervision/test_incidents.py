"""Incidents: opened by hand or by a detected spike, joined by matching posts while open, resolved with their work."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.factories import make_post
from tests.supervision import bearer, make_agent, make_conversation
from tests.web.test_api import route_all
from tests.web.test_auth import socket_app  # noqa: F401  (fixture)
from workspace.extensions import db, socketio
from workspace.infra.broker import job_queue
from workspace.jobs.tasks import periodic
from workspace.models import AuditEntry, Conversation, Incident, VolumeCount, incident_conversations, utcnow
from workspace.services.supervision import incidents, volume


@pytest.fixture
def sam(app, channel):
    """Sam the supervisor's API token."""
    with app.app_context():
        return make_agent("supervisor", "Sam")[1]


@pytest.fixture
def call(client, sam):
    """Call the API as Sam: call("POST", "/incidents", json=...)."""

    def call(method, path, **kwargs):
        return client.open(f"/api/v1{path}", method=method, headers=bearer(sam), **kwargs)

    return call


def members(app, incident_id) -> set[int]:
    with app.app_context():
        return set(db.session.scalars(sa.select(incident_conversations.c.conversation_id).where(
            incident_conversations.c.incident_id == incident_id)))


def test_a_supervisor_opens_renames_and_lists_an_incident(app, call):
    """Open with a title, a match and conversations; rename; it is listed and audited."""
    with app.app_context():
        first = make_conversation("billing")
    created = call("POST", "/incidents", json={"title": "Checkout down", "match": {"kind": "phrase",
                                                                                     "value": "payment failed"},
                                               "add_conversations": [first]})
    assert created.status_code == 201
    incident = created.get_json()
    assert incident["match"] == {"kind": "phrase", "value": "payment failed"}
    assert incident["counts"] == {"conversations": 1, "active": 1}
    renamed = call("PATCH", f"/incidents/{incident['id']}", json={"title": "Checkout down (PSP outage)"})
    assert renamed.get_json()["title"] == "Checkout down (PSP outage)"
    listed = call("GET", "/incidents?status=open").get_json()["data"]
    assert [i["id"] for i in listed] == [incident["id"]]
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.target_type == "incident")).all()
    assert actions == ["incident.create", "incident.update"]


@pytest.mark.parametrize(("body", "field"), [
    ({}, "title"), ({"title": ""}, "title"), ({"title": "x" * 201}, "title"), ([], "body"),
    ({"title": "t", "match": {"kind": "moon", "value": "x"}}, "match"),
    ({"title": "t", "match": {"kind": "tag", "value": ""}}, "match.value"),
    ({"title": "t", "add_conversations": ["1"]}, "add_conversations[0]"),
])
def test_bad_incidents_are_refused_and_nothing_is_written(app, call, body, field):
    """A clear 400 naming the field; no incident is left behind."""
    response = call("POST", "/incidents", json=body)
    assert response.status_code == 400 and response.get_json()["error"]["message"].startswith(field)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Incident)) == 0


@pytest.mark.parametrize("body", [{"title": "t", "match": {"kind": "queue", "value": "nope"}},
                                  {"title": "t", "add_conversations": [999999]}])
def test_an_incident_naming_what_does_not_exist_is_404_and_nothing_is_written(app, call, body):
    """A queue or conversation that names none: 404, no incident left behind."""
    assert call("POST", "/incidents", json=body).status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Incident)) == 0


def test_unknown_incidents_are_404(call):
    """Reading, changing or resolving an incident that does not exist is a 404."""
    assert call("GET", "/incidents/42").status_code == 404
    assert call("PATCH", "/incidents/42", json={"title": "x"}).status_code == 404
    assert call("POST", "/incidents/42/resolve", json={}).status_code == 404


def test_new_matching_posts_join_an_open_incident_in_the_routing_job(app, call, deliver, run_jobs):
    """Posts with the phrase (however written) join while open; others do not; after resolving, none do."""
    incident = call("POST", "/incidents", json={"title": "Login broken",
                                                "match": {"kind": "phrase", "value": "login error"}}).get_json()
    tagged = call("POST", "/incidents", json={"title": "Billing", "match": {"kind": "queue", "value": "billing"}})
    joined = [deliver(make_post(text=text, author={"id": f"j{i}", "handle": f"j{i}"})).get_json()["conversation_id"]
              for i, text in enumerate(["I get a login error", "LOGIN ERROR again!!", "@billing login error on pay"])]
    other = deliver(make_post(text="My invoice is wrong", author={"id": "o", "handle": "o"})).get_json()
    route_all(app, run_jobs)
    assert members(app, incident["id"]) == set(joined)
    assert members(app, tagged.get_json()["id"]) == {joined[2]}
    call("POST", f"/incidents/{incident['id']}/resolve", json={})
    late = deliver(make_post(text="login error still", author={"id": "late", "handle": "late"})).get_json()
    route_all(app, run_jobs)
    assert late["conversation_id"] not in members(app, incident["id"])
    assert other["conversation_id"] not in members(app, incident["id"])


def test_resolve_all_resolves_the_incidents_open_conversations(app, call, run_jobs):
    """Resolve-all closes the incident and starts a bulk action resolving its open and pending conversations,
    each audited and listed as done; others stay; the bulk action can be undone."""
    with app.app_context():
        open_one, pending_one = make_conversation("billing"), make_conversation("billing", status="pending")
        done = make_conversation("billing", status="resolved", resolved_at=utcnow())
        outside = make_conversation("billing")
    incident = call("POST", "/incidents", json={"title": "Outage",
                                                "add_conversations": [open_one, pending_one, done]}).get_json()
    with app.app_context():
        assert incidents.incident_conversation_ids(db.session.get(Incident, incident["id"])) == [open_one, pending_one]
    response = call("POST", f"/incidents/{incident['id']}/resolve", json={"resolve_conversations": True})
    body = response.get_json()
    assert body["status"] == "resolved"
    assert (body["bulk"]["kind"], body["bulk"]["total"], body["bulk"]["state"]) == ("status", 2, "queued")
    assert body["bulk"]["selection"] == {"incident_id": incident["id"]}
    run_jobs()
    assert call("GET", f"/incidents/{incident['id']}").get_json()["counts"] == {"conversations": 3, "active": 0}
    items = call("GET", f"/bulk/{body['bulk']['id']}/items").get_json()["data"]
    assert [(item["conversation_id"], item["result"]) for item in items] == [(open_one, "done"), (pending_one, "done")]
    with app.app_context():
        status = {c.id: c.status for c in db.session.scalars(sa.select(Conversation))}
        audited = db.session.scalars(sa.select(AuditEntry.target_id).where(
            AuditEntry.action == "conversation.macro")).all()
    assert status[open_one] == status[pending_one] == "resolved" and status[outside] == "open"
    assert sorted(audited) == [open_one, pending_one]
    assert call("POST", f"/bulk/{body['bulk']['id']}/undo").status_code == 202
    run_jobs()
    with app.app_context():
        assert db.session.get(Conversation, pending_one).status == "pending"
    reopened = call("PATCH", f"/incidents/{incident['id']}", json={"status": "open"}).get_json()
    assert reopened["status"] == "open" and reopened["resolved_at"] is None


def test_resolving_without_resolve_all_leaves_the_conversations(app, call):
    """Ending the incident alone changes no conversation."""
    with app.app_context():
        open_one = make_conversation("billing")
    incident = call("POST", "/incidents", json={"title": "Blip", "add_conversations": [open_one]}).get_json()
    body = call("POST", f"/incidents/{incident['id']}/resolve", json={}).get_json()
    assert body["status"] == "resolved" and body["bulk"] is None
    with app.app_context():
        assert db.session.get(Conversation, open_one).status == "open"


def seed_quiet_baseline(app, queue: str) -> None:
    """A day of 1-2 posts per 5 minutes in a queue's rollup, ending before the current window."""
    with app.app_context():
        now = volume.bucket_of(utcnow())
        for i in range(4, 300):
            db.session.add(VolumeCount(kind="queue", key=queue, bucket_start=now - timedelta(minutes=5 * i),
                                       posts=1 + i % 2, sentiment_sum=0.0, negative=0))
        db.session.commit()


def test_a_spike_opens_one_incident_with_its_conversations_and_alerts_supervisors(app, deliver, run_jobs, sam,
                                                                                  socket_app):  # noqa: F811
    """25 posts about failed payments in minutes, against a quiet day: the periodic job, on a real worker,
    opens one incident, for their phrase, holding those posts (the other phrases' and the queue's spikes
    are the same posts, so they open none of their own), and the dashboard hears of it at once."""
    seed_quiet_baseline(app, "billing")
    watcher = socketio.test_client(socket_app, auth={"token": sam})
    assert watcher.emit("watch_dashboard", {}, callback=True) == {"ok": True}
    posted = [deliver(make_post(text=f"@billing payment failed at checkout, order {i}",
                                author={"id": f"s{i}", "handle": f"s{i}"})).get_json()["conversation_id"]
              for i in range(25)]
    route_all(app, run_jobs)
    with app.app_context():
        job_queue().enqueue_call(periodic.detect_spikes, job_id="spikes-test")
    run_jobs()
    with app.app_context():
        (incident,) = db.session.scalars(sa.select(Incident)).all()
    # Every word pair of these posts spiked alike; the incident takes one of them.
    assert incident.match_kind == "phrase"
    assert incident.match_value in {"billing payment", "payment failed", "failed checkout", "checkout order"}
    assert members(app, incident.id) == set(posted)
    assert incident.spike["observed"] == 25 and incident.spike["z"] >= 4
    assert incident.match_value in incident.title and "25 posts in 15 min" in incident.title
    alerts = [e["args"][0] for e in watcher.get_received() if e["name"] == "incident.detected"]
    assert [(a["id"], a["counts"]["conversations"]) for a in alerts] == [(incident.id, 25)]
    with app.app_context():
        assert incidents.detect_spikes() == []  # the same spike opens nothing new while its incident is open
    watcher.disconnect()


def test_ordinary_traffic_opens_no_incident(app, deliver, run_jobs):
    """A handful of different posts against a quiet day is no spike."""
    seed_quiet_baseline(app, "billing")
    for i in range(4):
        deliver(make_post(text=f"@billing question number {i}", author={"id": f"q{i}", "handle": f"q{i}"}))
    route_all(app, run_jobs)
    with app.app_context():
        assert incidents.detect_spikes() == []
