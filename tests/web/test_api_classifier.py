"""The classifier API: versions, promotion, rollback, retrain jobs and routing accuracy, by role."""

import jsonschema
import pytest
import sqlalchemy as sa

from tests.services.triage.test_classifier_service import (  # noqa: F401  (isolated_models is an autouse fixture)
    add_conversations,
    isolated_models,
    labelled_rows,
    shuffled_training_side,
    train_rows,
)
from workspace.extensions import db
from workspace.models import AuditEntry
from workspace.web.api.openapi import DOCUMENT

ADMIN_ENDPOINTS = [("post", "/routing/retrain"), ("post", "/routing/models/v1/promote"), ("post", "/routing/rollback")]
SUPERVISOR_ENDPOINTS = [("get", "/routing/models"), ("get", "/routing/accuracy")]


def validate(instance, schema_name: str) -> None:
    """Check a response body against a schema of the served OpenAPI document."""
    jsonschema.validate(instance, {"$ref": f"#/components/schemas/{schema_name}", "components": DOCUMENT["components"]})


@pytest.fixture
def call(client, token):
    """Call an API path as the admin, or as another token: call('post', '/routing/rollback', json=...)."""

    def call(method, path, *, as_token=token, **kwargs):
        return getattr(client, method)(f"/api/v1{path}", headers={"Authorization": f"Bearer {as_token}"}, **kwargs)

    return call


@pytest.fixture
def two_versions(app, channel):
    """A good active version and a worse one the gate refused: (good, worse)."""
    with app.app_context():
        good = train_rows(labelled_rows(240))["version"]
        worse = train_rows(shuffled_training_side(labelled_rows(240, seed=5)))["version"]
    return good, worse


@pytest.mark.parametrize(("method", "path"), ADMIN_ENDPOINTS + SUPERVISOR_ENDPOINTS)
def test_agents_may_not_use_the_classifier_endpoints(call, token_for, method, path):
    """An agent gets 403 on every classifier endpoint."""
    response = call(method, path, as_token=token_for("agent"), json={})
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("method", "path"), ADMIN_ENDPOINTS)
def test_supervisors_read_but_may_not_change_models(call, token_for, method, path):
    """A supervisor gets 403 on retrain, promote and rollback, and 200 on the read endpoints."""
    supervisor = token_for("supervisor")
    assert call(method, path, as_token=supervisor, json={}).status_code == 403
    for read_method, read_path in SUPERVISOR_ENDPOINTS:
        assert call(read_method, read_path, as_token=supervisor).status_code == 200


def test_models_lists_versions_with_metrics_and_the_active_one(call, two_versions):
    """GET /routing/models lists versions newest first with metrics and names the active one."""
    good, worse = two_versions
    body = call("get", "/routing/models").get_json()
    assert body["active"] == good and [row["version"] for row in body["data"]] == [worse, good]
    assert body["data"][1]["metrics"]["accuracy"] >= 0.9 and not body["data"][0]["active"]
    for row in body["data"]:
        validate(row, "ModelVersion")


def test_promote_needs_force_for_a_worse_version_and_is_audited(app, call, two_versions):
    """An unforced promotion of a worse version is refused with 409; forced, it is active and audited."""
    good, worse = two_versions
    with app.app_context():
        add_conversations(labelled_rows(120, seed=9))
    refused = call("post", f"/routing/models/{worse}/promote", json={"force": False})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "not_promoted"
    forced = call("post", f"/routing/models/{worse}/promote", json={"force": True})
    assert forced.status_code == 200 and forced.get_json()["active"]
    validate(forced.get_json(), "ModelVersion")
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "model.promote",
                                                              AuditEntry.agent_id.is_not(None)))
        assert (entry.before, entry.after, entry.agent.email) == ({"active": good}, {"active": worse},
                                                                  "ada@example.com")
    assert call("post", "/routing/models/nope/promote").status_code == 404
    bad_body = call("post", f"/routing/models/{good}/promote", json={"force": "yes"})
    assert bad_body.status_code == 400 and "force" in bad_body.get_json()["error"]["message"]


def test_rollback_restores_the_previous_version(call, two_versions):
    """POST /routing/rollback reactivates the previous version; with nothing earlier it answers 409."""
    good, worse = two_versions
    assert call("post", "/routing/rollback").status_code == 409
    call("post", f"/routing/models/{worse}/promote", json={"force": True})
    response = call("post", "/routing/rollback")
    assert response.status_code == 200 and response.get_json()["version"] == good
    assert call("get", "/routing/models").get_json()["active"] == good


def test_retrain_enqueues_one_job_that_a_worker_runs(app, call, channel, run_jobs):
    """POST /routing/retrain answers 202 with a job id (the same while it waits); the worker trains."""
    with app.app_context():
        add_conversations(labelled_rows(200))
    first = call("post", "/routing/retrain")
    second = call("post", "/routing/retrain", json={"force": False})
    assert first.status_code == second.status_code == 202
    assert first.get_json()["job_id"] == second.get_json()["job_id"]
    run_jobs()
    body = call("get", "/routing/models").get_json()
    assert [row["source"] for row in body["data"]] == ["retrain"] and body["active"] == body["data"][0]["version"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(AuditEntry.action == "model.retrain")) == 2


def test_accuracy_reports_the_last_days(app, call, channel):
    """GET /routing/accuracy returns the documented figures; a bad days value is a 400."""
    with app.app_context():
        add_conversations([("a", "billing"), ("b", "tech")], predicted=["billing", "billing"])
    body = call("get", "/routing/accuracy?days=7").get_json()
    validate(body, "RoutingAccuracy")
    assert (body["days"], body["total"], body["correct"], body["accuracy"]) == (7, 2, 1, 0.5)
    for bad in ("0", "abc", "400"):
        response = call("get", f"/routing/accuracy?days={bad}")
        assert response.status_code == 400 and "days" in response.get_json()["error"]["message"]
