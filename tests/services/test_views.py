"""Saved views: CRUD through the API, who sees them (owner, team), their filters and capped counts."""

import pytest
import sqlalchemy as sa

from tests.factories import join_queue
from tests.supervision import make_conversation
from workspace.extensions import db
from workspace.models import Agent, Conversation, Priority


@pytest.fixture
def agents(app, client, channel, token_for):
    """Ana and Bob work billing; Cy works tech. Returns a caller per agent: calls["ana"]("get", "/views")."""
    tokens = {name: token_for("agent", email=f"{name}@example.com", name=name.title()) for name in ("ana", "bob", "cy")}
    join_queue(app, "ana@example.com", "billing")
    join_queue(app, "bob@example.com", "billing")
    join_queue(app, "cy@example.com", "tech")

    def caller(name):
        def call(method, path, **kwargs):
            headers = {"Authorization": f"Bearer {tokens[name]}"}
            return getattr(client, method)(f"/api/v1{path}", headers=headers, **kwargs)
        return call
    return {name: caller(name) for name in tokens}


def _agent_id(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Agent.id).where(Agent.email == email))


def test_a_view_filters_and_counts_what_its_viewer_may_see(app, agents):
    """Urgent open billing conversations tagged refund, assigned to the viewer: the count and the list agree,
    and conversations of a queue the agent is not in are never counted."""
    ana = _agent_id(app, "ana@example.com")
    with app.app_context():
        wanted = make_conversation("billing", assignee_id=ana, tags=("refund",))
        db.session.get(Conversation, wanted).priority = Priority.URGENT
        db.session.commit()
        make_conversation("billing", assignee_id=ana, tags=("refund",))  # normal priority
        make_conversation("billing", tags=("refund",))  # not hers
        tech = make_conversation("tech", assignee_id=ana, tags=("refund",))
        db.session.get(Conversation, tech).priority = Priority.URGENT
        db.session.commit()
    created = agents["ana"]("post", "/views", json={"name": "My urgent refunds", "filters": {
        "status": "open", "tags": ["Refund"], "assignee": "me", "priority": "urgent"}})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["count"], body["filters"]["tags"]) == (1, ["refund"])
    listed = agents["ana"]("get", f"/views/{body['id']}/conversations").get_json()["data"]
    assert [c["id"] for c in listed] == [wanted]
    everywhere = agents["ana"]("post", "/views", json={"name": "All open", "filters": {}}).get_json()
    assert everywhere["count"] == 3  # her billing ones, not tech's


def test_only_the_owner_or_the_team_sees_a_view(app, agents):
    """A personal view is its owner's alone (404 to others); a team view shows to the queue's agents, who may
    open but not change it; an agent cannot share a view with a queue they do not work."""
    mine = agents["ana"]("post", "/views", json={"name": "Mine", "filters": {}}).get_json()
    team = agents["ana"]("post", "/views", json={"name": "Billing unassigned", "team_queue": "billing",
                                                   "filters": {"assignee": "none"}}).get_json()
    assert team["team_queue"] == "billing"
    assert [v["name"] for v in agents["bob"]("get", "/views").get_json()["data"]] == ["Billing unassigned"]
    assert agents["cy"]("get", "/views").get_json()["data"] == []
    assert agents["bob"]("get", f"/views/{mine['id']}").status_code == 404
    assert agents["cy"]("get", f"/views/{team['id']}").status_code == 404
    assert agents["cy"]("get", f"/views/{team['id']}/conversations").status_code == 404
    assert agents["bob"]("get", f"/views/{team['id']}/conversations").status_code == 200
    assert agents["bob"]("patch", f"/views/{team['id']}", json={"name": "Mine now"}).status_code == 403
    assert agents["bob"]("delete", f"/views/{team['id']}").status_code == 403
    refused = agents["ana"]("post", "/views", json={"name": "Theirs", "team_queue": "tech", "filters": {}})
    assert refused.status_code == 400 and "team_queue" in refused.get_json()["error"]["message"]


def test_change_and_delete(app, agents):
    """The owner renames a view and changes its filters, then deletes it."""
    view = agents["ana"]("post", "/views", json={"name": "Open", "filters": {}}).get_json()
    changed = agents["ana"]("patch", f"/views/{view['id']}", json={"name": "Pending", "filters": {
        "status": "pending", "queue": "billing"}})
    assert changed.status_code == 200
    assert (changed.get_json()["name"], changed.get_json()["filters"]) == (
        "Pending", {"status": "pending", "queue": "billing"})
    assert agents["ana"]("delete", f"/views/{view['id']}").status_code == 204
    assert agents["ana"]("get", f"/views/{view['id']}").status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"filters": {}}, "name"),
    ({"name": " ", "filters": {}}, "name"),
    ({"name": "x", "filters": {"status": "nope"}}, "filters.status"),
    ({"name": "x", "filters": {"queue": "nowhere"}}, "filters.queue"),
    ({"name": "x", "filters": {"priority": "hot"}}, "filters.priority"),
    ({"name": "x", "filters": {"assignee": "them"}}, "filters.assignee"),
    ({"name": "x", "filters": {"tags": ["a"] * 6}}, "filters.tags"),
    ({"name": "x", "filters": {"text": "a"}}, "filters.text"),
    ({"name": "x", "filters": {"colour": "red"}}, "filters"),
    ({"name": "x", "owner_id": 1}, "owner_id"),
])
def test_bad_views_are_400_naming_the_field(agents, body, field):
    """Every wrong field is a 400 that names it, and nothing is saved."""
    response = agents["ana"]("post", "/views", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].startswith(field)
    assert agents["ana"]("get", "/views").get_json()["data"] == []


def test_text_filter_uses_search(app, agents):
    """A view's search text keeps the conversations whose posts match it."""
    with app.app_context():
        match = make_conversation("billing", text="My parcel never arrived")
        make_conversation("billing", text="Invoice question")
    view = agents["ana"]("post", "/views", json={"name": "Parcels", "filters": {"text": "parcel"}}).get_json()
    assert view["count"] == 1
    assert [c["id"] for c in agents["ana"]("get", f"/views/{view['id']}/conversations").get_json()["data"]] == [match]
