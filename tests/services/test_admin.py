"""Admins manage agents, queues and channels; each change is audited; others may not."""

import pytest
import sqlalchemy as sa

from tests.web.test_api import validate
from workspace.extensions import db
from workspace.models import Agent, AuditEntry


@pytest.fixture
def call(client, token, channel):
    def call(method, path, token_value=None, **kwargs):
        headers = {"Authorization": f"Bearer {token_value or token}"}
        return getattr(client, method)(f"/api/v1{path}", headers=headers, **kwargs)
    return call


def test_create_and_change_an_agent_with_queues(app, call):
    """An admin creates an agent in queues, then changes role; the audit log has both, without the password."""
    created = call("post", "/agents", json={"email": "Ana@Example.com", "name": "Ana", "password": "long enough pw",
                                             "queues": ["billing", "tech"]})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    validate(body, "AgentAdmin")
    assert (body["email"], body["role"], body["queues"]) == ("ana@example.com", "agent", ["billing", "tech"])
    changed = call("patch", f"/agents/{body['id']}", json={"role": "supervisor", "queues": []}).get_json()
    assert (changed["role"], changed["queues"]) == ("supervisor", [])
    with app.app_context():
        entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.target_type == "agent")).all()
        assert [e.action for e in entries] == ["agent.create", "agent.update"]
        assert "password" not in str(entries[0].after) and entries[1].before["role"] == "agent"
        assert db.session.get(Agent, body["id"]).session_version == 2  # role change signs them out


@pytest.mark.parametrize("body,status,field", [
    ({"email": "ada@example.com", "name": "Dup"}, 409, "email"), ({"email": "not-an-email", "name": "X"}, 400, "email"),
    ({"email": "x@y.org", "name": "X", "role": "king"}, 400, "role"),
    ({"email": "x@y.org", "name": "X", "password": "short"}, 400, "password"),
    ({"email": "x@y.org", "name": "X", "queues": ["nowhere"]}, 404, "queues"),
    ({"email": "x@y.org", "name": "X", "shoe": 9}, 400, "shoe"),
])
def test_bad_agents_are_refused(call, body, status, field):
    """Duplicates, bad emails, roles, short passwords, unknown queues and fields are refused by name."""
    response = call("post", "/agents", json=body)
    assert response.status_code == status and response.get_json()["error"]["message"].startswith(field)


def test_queues_and_channels_are_created_and_changed(call):
    """Queues get SLA targets and thresholds; channels get a secret, can be disabled and re-keyed."""
    queue = call("post", "/queues", json={"slug": "vip", "name": "VIP", "sla_minutes": {"urgent": 5},
                                          "routing_threshold": 0.8})
    assert queue.status_code == 201
    assert call("patch", "/queues/vip", json={"routing_threshold": None}).status_code == 200
    assert call("post", "/queues", json={"slug": "Bad Slug"}).status_code == 400
    assert call("patch", "/queues/vip", json={"sla_minutes": {"soon": 5}}).status_code == 400
    created = call("post", "/channels", json={"slug": "x", "name": "X mentions"}).get_json()
    validate(created, "ChannelAdmin")
    rotated = call("patch", "/channels/x", json={"rotate_secret": True, "enabled": False}).get_json()
    assert rotated["secret"] != created["secret"] and rotated["enabled"] is False
    assert call("post", "/channels", json={"slug": "x"}).status_code == 409


def test_only_admins_manage_and_supervisors_may_read_agents(call, token_for):
    """Agents get 403 everywhere here; supervisors can list agents but not change them."""
    agent, supervisor = token_for("agent", email="a@x.org"), token_for("supervisor", email="s@x.org")
    assert call("get", "/agents", token_value=agent).status_code == 403
    assert call("get", "/agents", token_value=supervisor).status_code == 200
    assert call("post", "/queues", token_value=supervisor, json={"slug": "q"}).status_code == 403
    assert call("get", "/channels", token_value=supervisor).status_code == 403
