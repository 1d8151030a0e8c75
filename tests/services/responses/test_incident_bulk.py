"""An incident answered in one move: a macro on all its open conversations through the bulk machinery."""

import sqlalchemy as sa

from tests.services.responses.test_bulk import replies_per_conversation
from tests.services.responses.test_macros import OUTAGE, call, make, world  # noqa: F401  (fixtures)
from tests.web.test_auth import socket_app  # noqa: F401  (fixture)
from workspace.extensions import db, socketio
from workspace.infra.broker import job_queue
from workspace.jobs.worker import AppWorker
from workspace.models import Conversation


def open_incident(call, ids) -> int:  # noqa: F811
    created = call("Sam", "post", "/incidents", json={"title": "Login outage", "add_conversations": ids})
    assert created.status_code == 201, created.get_json()
    return created.get_json()["id"]


def statuses(app) -> dict[int, tuple[str, list]]:
    with app.app_context():
        return {c.id: (c.status, sorted(c.tags or [])) for c in db.session.scalars(sa.select(Conversation))}


def test_a_macro_on_an_incident_dry_runs_runs_with_live_progress_and_undoes(
        app, socket_app, call, world, redis, run_jobs):  # noqa: F811
    """The dry run counts the incident's open conversations only; the job replies once to each, live; undo reopens."""
    first, second, vip, on_x = world["ids"]
    with app.app_context():
        db.session.get(Conversation, second).status = "resolved"  # already done: not part of "reply to all"
        db.session.commit()
    incident_id = open_incident(call, [first, second, vip])
    macro = make(call)
    body = {"kind": "macro", "macro_id": macro["id"], "incident_id": incident_id}
    dry = call("Sam", "post", "/bulk/dry-run", json=body).get_json()
    assert (dry["total"], dry["will_change"], dry["vip"], dry["failing"]) == (2, 2, 1, 0)
    assert dry["sample"][0]["reply"] == "Hi Maya, we know about the outage. Sam"
    assert replies_per_conversation(app) == {}
    sam = socketio.test_client(socket_app, auth={"token": world["tokens"]["Sam"]})
    started = call("Sam", "post", "/bulk", json=body)
    assert started.status_code == 202 and started.get_json()["selection"] == {"incident_id": incident_id}
    bulk_id = started.get_json()["id"]
    with socket_app.app_context():
        AppWorker([job_queue()], connection=redis).work(burst=True)
        db.session.remove()
    progress = [e["args"][0] for e in sam.get_received() if e["name"] == "bulk.progress"]
    sam.disconnect()
    assert progress[-1]["id"] == bulk_id and progress[-1]["state"] == "finished" and progress[-1]["done"] == 2
    assert replies_per_conversation(app) == {first: 1, vip: 1}
    rows = statuses(app)
    assert rows[first] == rows[vip] == ("resolved", ["outage"]) and rows[on_x] == ("open", [])
    incident = call("Sam", "get", f"/incidents/{incident_id}").get_json()
    assert incident["counts"] == {"conversations": 3, "active": 0}
    again = call("Sam", "post", "/bulk/dry-run", json=body)
    assert again.status_code == 400 and again.get_json()["error"]["code"] == "nothing_selected"
    assert call("Sam", "post", f"/bulk/{bulk_id}/undo").status_code == 202
    run_jobs()
    rows = statuses(app)
    assert rows[first] == rows[vip] == ("open", [])
    assert replies_per_conversation(app) == {first: 1, vip: 1}  # replies stay sent


def test_agents_may_not_act_on_an_incident_and_bad_incidents_are_refused(app, call, world):  # noqa: F811
    """Ana (an agent) gets a 403 for the dry run and the run; a missing or malformed incident is named."""
    incident_id = open_incident(call, world["ids"][:2])
    body = {"kind": "status", "status": "resolved", "incident_id": incident_id}
    for path in ("/bulk/dry-run", "/bulk"):
        response = call("Ana", "post", path, json=body)
        assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
    assert call("Sam", "post", "/bulk", json={**body, "incident_id": 99999}).status_code == 404
    malformed = call("Sam", "post", "/bulk", json={**body, "incident_id": "1"})
    assert malformed.status_code == 400 and "incident_id" in malformed.get_json()["error"]["message"]
    both = call("Sam", "post", "/bulk", json={**body, "conversation_ids": world["ids"][:1]})
    assert both.status_code == 400 and "one way" in both.get_json()["error"]["message"]
    assert call("Sam", "get", "/bulk").get_json()["data"] == call("Ana", "get", "/bulk").get_json()["data"] == []
    assert {status for status, _ in statuses(app).values()} == {"open"}
