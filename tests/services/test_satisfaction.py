"""Satisfaction (CSAT): the signed link in a resolving reply, the public page, one answer per conversation, the
figures per agent and queue, an automation on a low score, and the csat.received event."""

import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from tests.services.test_admin import call  # noqa: F401  (fixture)
from tests.supervision import make_conversation
from workspace.extensions import db
from workspace.models import Agent, Conversation, EventDelivery, Macro, Message, SatisfactionRating, utcnow
from workspace.services.automations import engine
from workspace.services.supervision import dashboard, reports


def csrf(response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True)).group(1)


def resolve_with_survey(app, call) -> tuple[int, str]:  # noqa: F811
    """Ada resolves a billing conversation with a macro whose reply carries the survey link; returns (id, path)."""
    with app.app_context():
        conversation_id = make_conversation("billing")
        macro = Macro(name="Resolve with survey", scope="global",
                      template="Done! Tell us: {{ conversation.survey_url }}",
                      actions=[{"type": "reply"}, {"type": "status", "status": "resolved"}])
        db.session.add(macro)
        db.session.commit()
        macro_id = macro.id
    assert call("post", f"/conversations/{conversation_id}/macros/{macro_id}").status_code == 200
    with app.app_context():
        reply = db.session.scalar(sa.select(Message.text).where(Message.conversation_id == conversation_id,
                                                                 Message.direction == "outbound"))
        assert db.session.get(Conversation, conversation_id).status == "resolved"
    path = re.search(r"http://[^/]+(/survey/\S+)", reply).group(1)
    return conversation_id, path


def test_the_customer_answers_once_through_the_link_in_the_last_reply(app, client, call):  # noqa: F811
    """The reply's link opens the survey; the answer is kept and shown on the conversation; a second answer (or a
    forged link) changes nothing."""
    conversation_id, path = resolve_with_survey(app, call)
    page = client.get(path)
    assert page.status_code == 200 and 'name="score"' in page.get_data(as_text=True)
    answered = client.post(path, data={"score": "2", "comment": "Slow.", "csrf_token": csrf(page)})
    assert answered.status_code == 200 and "Thank you" in answered.get_data(as_text=True)
    again = client.post(path, data={"score": "5", "comment": "Great!", "csrf_token": csrf(page)})
    assert again.status_code == 409 and "has its answer already" in again.get_data(as_text=True)
    assert "has its answer already" in client.get(path).get_data(as_text=True)
    shown = call("get", f"/conversations/{conversation_id}/satisfaction").get_json()
    assert (shown["rating"]["score"], shown["rating"]["comment"]) == (2, "Slow.")
    assert client.get(path[:-3] + "xyz").status_code == 404
    assert client.post(path, data={"score": "9", "csrf_token": csrf(page)}).status_code in (400, 409)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SatisfactionRating)) == 1


def test_figures_per_agent_and_queue_and_a_low_score_automation(app, client, call):  # noqa: F811
    """The supervisors' figures count the answer for the agent who had it and the queue; an automation on
    scores under 3 tags the conversation; a subscriber to csat.received gets the event."""
    call("post", "/subscriptions", json={"url": "http://127.0.0.1:9/hooks", "events": ["csat.received"]})
    conversation_id, path = resolve_with_survey(app, call)
    page = client.get(path)
    client.post(path, data={"score": "1", "csrf_token": csrf(page)})
    figures = call("get", "/satisfaction?days=7").get_json()
    with app.app_context():
        ada = db.session.scalar(sa.select(Agent.id).where(Agent.email == "ada@example.com"))
        assert [event for (event,) in db.session.execute(sa.select(EventDelivery.event))] == ["csat.received"]
    assert (figures["answers"], figures["average"], figures["satisfied"]) == (1, 1.0, 0.0)
    assert figures["agents"] == [{"id": ada, "answers": 1, "average": 1.0, "satisfied": 0.0}]
    assert len(figures["queues"]) == 1
    call("post", "/automations", json={"name": "Unhappy", "enabled": True, "conditions": [
        {"field": "status", "op": "in", "value": ["resolved"]}, {"field": "satisfaction", "op": "lt", "value": 3}],
        "actions": [{"type": "add_tags", "tags": ["unhappy"]}]})
    with app.app_context():
        assert engine.run_automations()["applied"] == 1
        assert db.session.get(Conversation, conversation_id).tags == ["unhappy"]


def _rate(app, queue: str, score: int, *, agent_id: int | None, at=None) -> int:
    """A conversation of `queue` answered with `score` at `at` (now by default); returns its id."""
    with app.app_context():
        conversation_id = make_conversation(queue, status="resolved", assignee_id=agent_id)
        conversation = db.session.get(Conversation, conversation_id)
        db.session.add(SatisfactionRating(conversation_id=conversation_id, score=score, comment="ok",
                                          agent_id=agent_id, queue_id=conversation.queue_id,
                                          created_at=at or utcnow()))
        db.session.commit()
        return conversation_id


def test_the_answer_shows_on_the_conversation(app, call):  # noqa: F811
    """The conversation in full carries the customer's answer (null until there is one)."""
    with app.app_context():
        unanswered = make_conversation("billing")
    answered = _rate(app, "billing", 4, agent_id=None)
    assert call("get", f"/conversations/{unanswered}").get_json()["satisfaction"] is None
    shown = call("get", f"/conversations/{answered}").get_json()["satisfaction"]
    assert (shown["score"], shown["comment"]) == (4, "ok")


def test_dashboard_figures_per_agent_and_queue(app, call):  # noqa: F811
    """The dashboard's queue and agent rows carry the last 7 days' average and number of answers; an older
    answer is left out, and a queue or agent without answers shows none."""
    with app.app_context():
        ada = db.session.scalar(sa.select(Agent.id).where(Agent.email == "ada@example.com"))
    _rate(app, "billing", 5, agent_id=ada)
    _rate(app, "billing", 2, agent_id=ada)
    _rate(app, "billing", 1, agent_id=ada, at=utcnow() - timedelta(days=10))
    with app.app_context():
        app.extensions.pop("dashboard_slow", None)
        figures = dashboard.snapshot()
    queues = {row["queue"]: row for row in figures["queues"]}
    assert (queues["billing"]["csat_average"], queues["billing"]["csat_answers"]) == (3.5, 2)
    assert (queues["tech"]["csat_average"], queues["tech"]["csat_answers"]) == (None, 0)
    [agent] = [row for row in figures["agents"] if row["id"] == ada]
    assert (agent["csat_average"], agent["csat_answers"]) == (3.5, 2)
    assert figures["csat"] == {"days": 7, "csat_average": 3.5, "csat_answers": 2}


def test_weekly_report_counts_the_weeks_answers(app, call, client, token):  # noqa: F811
    """The weekly report shows the week's average and number of answers, per queue and agent; the next week's
    answers are not in it."""
    start = datetime(2026, 11, 16, tzinfo=UTC)
    with app.app_context():
        ada = db.session.scalar(sa.select(Agent.id).where(Agent.email == "ada@example.com"))
    _rate(app, "billing", 5, agent_id=ada, at=start + timedelta(days=1))
    _rate(app, "tech", 2, agent_id=None, at=start + timedelta(days=3))
    _rate(app, "tech", 1, agent_id=None, at=start + timedelta(days=8))
    with app.app_context():
        report = reports.weekly_report(start, now=start + timedelta(days=20))
    figures = report["satisfaction"]
    assert (figures["answers"], figures["average"], figures["satisfied"]) == (2, 3.5, 0.5)
    assert [(q["name"], q["average"], q["answers"]) for q in figures["queues"]] == [("billing", 5.0, 1),
                                                                                   ("tech", 2.0, 1)]
    assert [(a["name"], a["answers"]) for a in figures["agents"]] == [("Ada", 1)]
