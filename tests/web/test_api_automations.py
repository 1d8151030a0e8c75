"""Admins manage automations over the API: create, read, change, dry run, firings, delete; a queue's lead."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.factories import join_queue
from tests.services.test_admin import call  # noqa: F401  (fixture)
from tests.supervision import make_conversation
from tests.web.test_api import validate
from workspace.extensions import db
from workspace.models import Agent, AuditEntry, utcnow
from workspace.services.automations import engine

OLD_OPEN = {"name": "Tag old open", "conditions": [
    {"field": "status", "op": "in", "value": ["open"]}, {"field": "age_hours", "op": "gte", "value": 24},
    {"field": "queue", "op": "in", "value": ["billing"]}],
    "actions": [{"type": "add_tags", "tags": ["stale"]}, {"type": "notify", "target": "queue"}]}


@pytest.fixture
def automation(call):  # noqa: F811
    response = call("post", "/automations", json=OLD_OPEN)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_an_automation_is_created_disabled_changed_listed_and_audited(app, call, automation):  # noqa: F811
    """It starts disabled, reads back as sent, is enabled by a change, lists in order, and every edit is audited."""
    validate(automation, "Automation")
    assert automation["enabled"] is False and automation["conditions"] == OLD_OPEN["conditions"]
    changed = call("patch", f"/automations/{automation['id']}", json={"enabled": True, "position": 2.0}).get_json()
    assert changed["enabled"] is True and changed["position"] == 2
    assert [a["name"] for a in call("get", "/automations").get_json()["data"]] == ["Tag old open"]
    assert call("delete", f"/automations/{automation['id']}").status_code == 204
    assert call("get", f"/automations/{automation['id']}").status_code == 404
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.target_type == "automation")).all()
        assert actions == ["automation.create", "automation.update", "automation.delete"]


@pytest.mark.parametrize(("change", "message"), [
    ({"conditions": [{"field": "status", "op": "gte", "value": ["open"]}]}, "conditions[0].op: one of in, not_in"),
    ({"conditions": [{"field": "priority", "op": "in", "value": ["asap"]}]}, "conditions[0].value: each one of"),
    ({"conditions": [{"field": "queue", "op": "in", "value": ["nowhere"]}]}, "no queue named 'nowhere'"),
    ({"actions": [{"type": "escalate"}, {"type": "add_tags", "tags": ["x"]}]}, "actions: escalate must be the last"),
    ({"actions": [{"type": "reply", "text": "{{ oops"}]}, "actions[0].text:"),
    ({"actions": [{"type": "add_tags", "tags": ["x"]}, {"type": "priority", "priority": "asap"}]},
     "actions[1].priority: one of urgent"),
    ({"actions": [{"type": "reply", "text": "a"}, {"type": "macro", "macro_id": 1}]}, "actions: at most one reply"),
])
def test_bad_conditions_and_actions_are_refused_naming_what_is_wrong(call, automation, change, message):  # noqa: F811
    """Each mistake is a 400 invalid_automation naming the condition or action, and changes nothing."""
    response = call("patch", f"/automations/{automation['id']}", json=change)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_automation" and error["message"].startswith(message), error
    assert call("get", f"/automations/{automation['id']}").get_json()["conditions"] == OLD_OPEN["conditions"]


def test_dry_run_then_firings_on_the_conversation_and_the_automation(
        app, call, automation, token_for, as_token):  # noqa: F811
    """The dry run lists the old open billing conversation only; once fired, the firing shows on the
    automation and on the conversation (to agents of its queue only), and the dry run marks it fired."""
    with app.app_context():
        two_days_ago = utcnow() - timedelta(days=2)
        old = make_conversation("billing", created_at=two_days_ago)
        make_conversation("billing")
        make_conversation("tech", created_at=two_days_ago)
    body = {"conditions": OLD_OPEN["conditions"], "actions": OLD_OPEN["actions"], "automation_id": automation["id"]}
    result = call("post", "/automations/dry-run", json=body).get_json()
    assert [m["id"] for m in result["matches"]] == [old] and result["matches"][0]["already_fired"] is False
    assert result["actions"] == ["add tags stale", "notify the queue"]
    call("patch", f"/automations/{automation['id']}", json={"enabled": True})
    with app.app_context():
        assert engine.run_automations()["applied"] == 1
    [firing] = call("get", f"/automations/{automation['id']}/firings").get_json()["data"]
    validate(firing, "AutomationFiring")
    assert firing["conversation_id"] == old and firing["result"] == "applied"
    assert call("get", "/automations").get_json()["data"][0]["fired"] == 1
    assert call("post", "/automations/dry-run", json=body).get_json()["matches"][0]["already_fired"] is True
    outsider = as_token(token_for("agent", email="tom@example.com"))
    assert outsider("get", f"/conversations/{old}/automations").status_code == 404
    insider = as_token(token_for("agent", email="ana@example.com"))
    join_queue(app, "ana@example.com", "billing")
    assert [f["automation"] for f in insider("get", f"/conversations/{old}/automations").get_json()["data"]] == [
        "Tag old open"]


def test_a_queue_lead_is_a_supervisor_or_admin(call, token_for, app):  # noqa: F811
    """A queue's lead can be set to a supervisor and cleared; an agent is refused, an unknown id is a 404."""
    token_for("supervisor", email="sue@example.com")
    token_for("agent", email="al@example.com")
    with app.app_context():
        sue, al = (db.session.scalar(sa.select(Agent.id).where(Agent.email == email))
                   for email in ("sue@example.com", "al@example.com"))
    assert call("patch", "/queues/billing", json={"lead_id": sue}).get_json()["lead_id"] == sue
    assert call("patch", "/queues/billing", json={"lead_id": al}).get_json()["error"]["message"].startswith("lead_id:")
    assert call("patch", "/queues/billing", json={"lead_id": 99999}).status_code == 404
    assert call("patch", "/queues/billing", json={"lead_id": None}).get_json()["lead_id"] is None
