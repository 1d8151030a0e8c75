"""Notifications: who is told what (assignment, mention, customer reply, SLA at risk, urgent arrival, incident),
recorded once, listed with an unread count, emitted live to the agent's room, and marked read."""

from datetime import timedelta

import sqlalchemy as sa

from tests.factories import make_post
from tests.services.notifications.conftest import billing_conversation, call
from tests.supervision import make_conversation
from workspace.extensions import db
from workspace.jobs.dispatch import dispatch_once
from workspace.models import Conversation, Notification, utcnow
from workspace.services.notifications import triggers
from workspace.services.service_levels import clocks


def notifications(app, who_id) -> list[tuple[str, int | None]]:
    """(kind, conversation id) of an agent's notifications, oldest first."""
    with app.app_context():
        rows = db.session.execute(sa.select(Notification.kind, Notification.conversation_id)
                                  .where(Notification.agent_id == who_id).order_by(Notification.id)).all()
        db.session.remove()
    return [tuple(row) for row in rows]


def test_an_assignment_by_someone_else_tells_the_assignee_live_and_in_the_list(app, client, team, run_jobs, emitted):
    """Ann assigns a conversation to Bo: Bo has one unread notification, emitted to his room; Ann assigning
    herself tells nobody."""
    conversation_id = billing_conversation(app)
    bo_id = team["bo"][0]
    assert call(client, team, "ann", "patch", f"/conversations/{conversation_id}",
                json={"assignee": bo_id}).status_code == 200
    other = billing_conversation(app)
    assert call(client, team, "ann", "patch", f"/conversations/{other}", json={"assignee": "me"}).status_code == 200
    run_jobs()
    listed = call(client, team, "bo", "get", "/notifications").get_json()
    assert listed["unread"] == 1
    [item] = listed["data"]
    assert (item["kind"], item["conversation_id"], item["actor_id"], item["read_at"]) == (
        "assigned", conversation_id, team["ann"][0], None)
    assert "Ann" in item["title"] and f"#{conversation_id}" in item["title"]
    assert notifications(app, team["ann"][0]) == []
    live = [(to, data) for name, to, data in emitted if name == "notification.created"]
    assert live == [(f"agent:{bo_id}", {"notifications": [item], "unread": 1})]


def test_a_mention_tells_a_colleague_who_can_see_it_and_not_one_who_cannot(app, client, team, run_jobs):
    """`@bo` in Ann's note tells Bo; `@cy` (tech only) tells Cy nothing (not even the subject) and tells Ann
    that Cy was not told; a supervisor mentioned by name is told; the author mentioning herself is not."""
    conversation_id = billing_conversation(app)
    note = "@bo can you look? also @Cy and @sue, and me @ann. Not an email: x@bo.com"
    assert call(client, team, "ann", "post", f"/conversations/{conversation_id}/notes",
                json={"text": note}).status_code == 201
    run_jobs()
    assert notifications(app, team["bo"][0]) == [("mention", conversation_id)]
    assert notifications(app, team["sue"][0]) == [("mention", conversation_id)]
    assert notifications(app, team["cy"][0]) == []
    assert notifications(app, team["ann"][0]) == [("mention_refused", conversation_id)]
    [refused] = call(client, team, "ann", "get", "/notifications").get_json()["data"]
    assert "Cy was not told" in refused["title"]


def test_an_urgent_post_tells_its_queue_and_a_reply_tells_the_assignee(app, client, team, deliver, run_jobs):
    """An urgent post routed to billing tells Ann and Bo (not Cy); once Bo has it, the customer's follow-up
    tells Bo alone, and running the jobs again records nothing twice."""
    post = make_post(text="I was charged twice!", author={"id": "u-7", "handle": "kim", "name": "Kim"})
    conversation_id = deliver(post).get_json()["conversation_id"]
    with app.app_context():
        dispatch_once(100)
    run_jobs()
    for who in ("ann", "bo"):
        assert notifications(app, team[who][0]) == [("urgent", conversation_id)]
    assert notifications(app, team["cy"][0]) == []
    with app.app_context():
        db.session.get(Conversation, conversation_id).assignee_id = team["bo"][0]
        db.session.commit()
    follow_up = make_post(text="Any news?", author={"id": "u-7", "handle": "kim", "name": "Kim"})
    assert deliver(follow_up).get_json()["conversation_id"] == conversation_id
    with app.app_context():
        dispatch_once(100)
    run_jobs()
    assert notifications(app, team["bo"][0]) == [("urgent", conversation_id), ("reply", conversation_id)]
    assert notifications(app, team["ann"][0]) == [("urgent", conversation_id)]
    with app.app_context():
        assert triggers.notify("routed", [conversation_id]) == 0  # keyed per event: told once


def test_an_sla_about_to_breach_tells_the_assignee_once(app, team, run_jobs):
    """The watcher moving an assigned conversation's clock to at risk tells its agent, once per due time."""
    with app.app_context():
        conversation_id = make_conversation("billing", assignee_id=team["ann"][0], waiting_since=utcnow())
        row = db.session.get(Conversation, conversation_id)
        clocks.sync(row, utcnow())
        db.session.commit()
        due = row.sla_due_at
        clocks.check(due - timedelta(minutes=1))
        clocks.check(due - timedelta(seconds=30))
        db.session.remove()
    run_jobs()
    assert notifications(app, team["ann"][0]) == [("sla", conversation_id)]


def test_an_incident_opened_tells_supervisors_and_admins_but_not_its_opener(app, client, team, run_jobs):
    """Sue opens an incident: Ada (admin) is told, Sue and the agents are not."""
    response = call(client, team, "sue", "post", "/incidents", json={"title": "Checkout down"})
    assert response.status_code == 201
    run_jobs()
    listed = call(client, team, "ada", "get", "/notifications").get_json()["data"]
    assert [(n["kind"], n["incident_id"]) for n in listed] == [("incident", response.get_json()["id"])]
    assert notifications(app, team["sue"][0]) == [] and notifications(app, team["ann"][0]) == []


def test_marking_read_by_ids_by_conversation_or_all_touches_only_ones_own(app, client, team, run_jobs, emitted):
    """Bo marks one read by id, then a conversation's, then all; Ann's ids in Bo's call change nothing."""
    ids = [billing_conversation(app) for _ in range(3)]
    for conversation_id in ids:  # each told before the next change (a job finds the assignee of its time)
        call(client, team, "ann", "patch", f"/conversations/{conversation_id}", json={"assignee": team["bo"][0]})
        run_jobs()
        call(client, team, "bo", "patch", f"/conversations/{conversation_id}", json={"assignee": team["ann"][0]})
        run_jobs()
    bo_items = call(client, team, "bo", "get", "/notifications").get_json()
    ann_items = call(client, team, "ann", "get", "/notifications").get_json()
    assert bo_items["unread"] == ann_items["unread"] == 3
    ann_ids = [n["id"] for n in ann_items["data"]]
    marked = call(client, team, "bo", "post", "/notifications/read",
                  json={"ids": [bo_items["data"][0]["id"], *ann_ids]})
    assert marked.get_json() == {"marked": 1, "unread": 2}
    assert ("notification.read", f"agent:{team['bo'][0]}", {"unread": 2}) in emitted
    marked = call(client, team, "bo", "post", "/notifications/read", json={"conversation_id": ids[0]})
    assert marked.get_json() == {"marked": 1, "unread": 1}
    assert call(client, team, "bo", "post", "/notifications/read", json={"all": True}).get_json() == {
        "marked": 1, "unread": 0}
    assert call(client, team, "ann", "get", "/notifications?unread=1").get_json()["unread"] == 3
    refused = call(client, team, "bo", "post", "/notifications/read", json={"ids": []})
    assert refused.status_code == 400 and refused.get_json()["error"]["code"]
    page = call(client, team, "ann", "get", "/notifications?limit=2").get_json()
    rest = call(client, team, "ann", "get", f"/notifications?limit=2&before={page['next_before']}").get_json()
    assert len(page["data"]) == 2 and len(rest["data"]) == 1 and rest["next_before"] is None
