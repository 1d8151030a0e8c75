"""Admins manage ordered routing rules over the API; the worker routes by them; every change is audited."""

import pytest
import sqlalchemy as sa

from tests.factories import make_post
from workspace.extensions import db
from workspace.jobs.dispatch import dispatch_once
from workspace.models import AuditEntry, Conversation

BILLING_RULE = {"name": "Refunds to billing", "conditions": {"keywords": ["refund", "chargeback"]},
                "actions": {"queue": "billing", "tags": ["refund"], "priority": "high"}}


@pytest.fixture
def admin(client, token, channel):
    """Call the API as the admin: admin('post', '/rules', json=...)."""

    def call(method, path, **kwargs):
        return getattr(client, method)(f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, **kwargs)

    return call


@pytest.fixture
def agent_token(token_for):
    """A token for a plain agent (no admin rights)."""
    return token_for("agent", email="kofi@example.com", name="Kofi")


def test_create_list_update_delete_and_every_change_is_audited(app, admin):
    """A rule goes through its whole life over the API, and the audit log has each step with before/after."""
    created = admin("post", "/rules", json=BILLING_RULE)
    assert created.status_code == 201, created.get_json()
    rule = created.get_json()
    assert (rule["name"], rule["position"], rule["enabled"]) == ("Refunds to billing", 0, True)
    assert admin("get", "/rules").get_json()["data"][0]["id"] == rule["id"]
    changed = admin("patch", f"/rules/{rule['id']}", json={"enabled": False, "name": "Refunds"})
    assert changed.status_code == 200 and changed.get_json()["enabled"] is False
    assert admin("delete", f"/rules/{rule['id']}").status_code == 204
    assert admin("get", f"/rules/{rule['id']}").status_code == 404
    with app.app_context():
        entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [e.action for e in entries] == ["rule.create", "rule.update", "rule.delete"]
        assert entries[1].before["enabled"] is True and entries[1].after["enabled"] is False
        assert entries[1].after["name"] == "Refunds" and entries[2].after is None
        assert all(e.agent.email == "ada@example.com" for e in entries)


@pytest.mark.parametrize("rule,message", [
    ({**BILLING_RULE, "conditions": {"regex": "(a)\\1"}}, "regex"),
    ({**BILLING_RULE, "conditions": {"smell": "bad"}}, "smell"),
    ({**BILLING_RULE, "actions": {"queue": "nowhere"}}, "nowhere"),
    ({**BILLING_RULE, "actions": {"teleport": True}}, "teleport"),
    ({"name": "no conditions", "actions": {}}, "conditions"),
    ({**BILLING_RULE, "colour": "red"}, "colour"),
])
def test_a_rule_that_cannot_compile_is_refused_with_the_reason(app, admin, rule, message):
    """Bad regexes, unknown conditions/actions/queues and unknown fields are a 400 naming the problem."""
    response = admin("post", "/rules", json=rule)
    assert response.status_code == 400
    assert message in response.get_json()["error"]["message"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


def test_an_update_that_breaks_the_rule_changes_nothing(admin):
    """A failed PATCH leaves the stored rule exactly as it was."""
    rule = admin("post", "/rules", json=BILLING_RULE).get_json()
    response = admin("patch", f"/rules/{rule['id']}", json={"conditions": {"regex": "(?=x)"}})
    assert response.status_code == 400
    assert admin("get", f"/rules/{rule['id']}").get_json()["conditions"] == BILLING_RULE["conditions"]


def test_reorder_and_insert_at_a_position(admin):
    """Reordering needs every id once; a new rule can be inserted at a position."""
    ids = [admin("post", "/rules", json={**BILLING_RULE, "name": f"r{n}"}).get_json()["id"] for n in range(3)]
    reordered = admin("post", "/rules/reorder", json={"order": [ids[2], ids[0], ids[1]]}).get_json()["data"]
    assert [r["id"] for r in reordered] == [ids[2], ids[0], ids[1]]
    assert [r["position"] for r in reordered] == [0, 1, 2]
    assert admin("post", "/rules/reorder", json={"order": ids[:2]}).status_code == 409  # not every rule: stale
    first = admin("post", "/rules", json={**BILLING_RULE, "name": "first", "position": 0}).get_json()
    assert [r["id"] for r in admin("get", "/rules").get_json()["data"]][:2] == [first["id"], ids[2]]


def test_only_admins_change_rules(client, agent_token, channel):
    """An agent may not create rules (403), and may not even list them."""
    headers = {"Authorization": f"Bearer {agent_token}"}
    assert client.post("/api/v1/rules", json=BILLING_RULE, headers=headers).status_code == 403
    assert client.get("/api/v1/rules", headers=headers).status_code == 403


def test_the_worker_routes_by_rules_in_order_and_explains_why(app, admin, deliver, run_jobs):
    """A rule made over the API routes matching posts; the first queue-setting rule wins, the other is overridden."""
    admin("post", "/rules", json=BILLING_RULE)
    admin("post", "/rules", json={"name": "Refunds to tech", "conditions": {"keywords": ["refund"]},
                                  "actions": {"queue": "tech"}})
    conversation_id = deliver(make_post(text="I want a refund for my order")).get_json()["conversation_id"]
    with app.app_context():
        dispatch_once(100)
    run_jobs()
    detail = admin("get", f"/conversations/{conversation_id}").get_json()
    assert detail["queue"] == "billing" and "refund" in detail["tags"] and detail["priority"] in ("high", "urgent")
    statuses = {r["name"]: r["status"] for r in detail["explanation"]["rules"]}
    assert statuses == {"Refunds to billing": "fired", "Refunds to tech": "overridden"}
    with app.app_context():
        assert db.session.get(Conversation, conversation_id).routed_queue.slug == "billing"


def test_a_disabled_rule_stops_routing_at_once(app, admin, deliver, run_jobs):
    """Disabling a rule takes effect on the next routing batch (the worker's cache sees the change)."""
    rule = admin("post", "/rules", json=BILLING_RULE).get_json()
    first = deliver(make_post(text="refund please")).get_json()["conversation_id"]
    with app.app_context():
        dispatch_once(100)
    run_jobs()
    admin("patch", f"/rules/{rule['id']}", json={"enabled": False})
    second = deliver(make_post(text="refund please", author={"id": "b", "handle": "b"})).get_json()["conversation_id"]
    with app.app_context():
        dispatch_once(100)
    run_jobs()
    assert admin("get", f"/conversations/{first}").get_json()["queue"] == "billing"
    assert admin("get", f"/conversations/{second}").get_json()["queue"] == "triage"
