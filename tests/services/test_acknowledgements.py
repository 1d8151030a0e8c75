"""Acknowledgements: a channel's automatic first reply, once per conversation, in or out of business hours."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.factories import make_post
from workspace.extensions import db
from workspace.jobs.dispatch import dispatch_once
from workspace.models import BusinessCalendar, Channel, Message, Priority, Queue, SlaPolicy, utcnow
from workspace.services import acknowledgements
from workspace.services.triage.decisions import route_conversations

EVERY_DAY = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
IN_HOURS, OUT_OF_HOURS = "Thanks! We are on it.", "Thanks! We are closed now and will answer in the morning."


def _enable(app, **settings):
    with app.app_context():
        channel = db.session.scalar(sa.select(Channel).where(Channel.slug == "forum"))
        channel.acknowledgement = {"enabled": True, "in_hours": IN_HOURS, "out_of_hours": OUT_OF_HOURS, **settings}
        db.session.commit()


def _calendar(app, *, closed_today: bool):
    """Give the triage queue's normal level a business-hours policy on an always-open calendar (closed today)."""
    today = utcnow().date()
    holidays = [{"name": "Closed", "start": str(today - timedelta(days=1)), "end": str(today + timedelta(days=2))}]
    with app.app_context():
        calendar = BusinessCalendar(name="Office", time_zone="UTC", hours=EVERY_DAY,
                                    holidays=holidays if closed_today else [])
        queue = db.session.scalar(sa.select(Queue).where(Queue.slug == "triage"))
        db.session.add(SlaPolicy(queue=queue, priority=Priority.NORMAL, first_reply_minutes=60, business_hours=True,
                                 calendar=calendar))
        db.session.commit()


def _post_and_route(app, deliver, **post) -> int:
    response = deliver(make_post(**post))
    assert response.status_code in (200, 202), response.get_json()
    with app.app_context():
        dispatch_once(100)
        conversation_id = response.get_json()["conversation_id"]
        route_conversations([conversation_id])
        db.session.remove()
    return conversation_id


def _acknowledgements(app, conversation_id: int) -> list[Message]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Message).where(Message.conversation_id == conversation_id,
                                                           Message.automatic == "acknowledgement")).all()
        db.session.expunge_all()
        return rows


def test_off_by_default(app, deliver):
    """A channel nobody configured sends no automatic reply."""
    conversation_id = _post_and_route(app, deliver, text="hello, my invoice is wrong")
    assert _acknowledgements(app, conversation_id) == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)
                                 .where(Message.direction == "outbound")) == 0


def test_sent_once_even_when_the_customer_posts_twice(app, deliver, run_jobs):
    """The first routing of a conversation queues one acknowledgement; a follow-up gets none, and the reply
    goes through the delivery job like an agent's, without counting as the first reply."""
    _enable(app)
    first = _post_and_route(app, deliver, thread_id="t1", text="my invoice is wrong")
    second = _post_and_route(app, deliver, thread_id="t1", text="hello? anyone?")
    assert first == second
    [ack] = _acknowledgements(app, first)
    assert (ack.text, ack.direction, ack.agent_id, ack.delivery_status) == (IN_HOURS, "outbound", None, "queued")
    run_jobs()
    with app.app_context():
        assert db.session.get(Message, ack.id).delivery_status != "queued"  # the delivery job took it
        conversation = db.session.get(Message, ack.id).conversation
        assert conversation.first_reply_at is None and conversation.waiting_since is not None
    assert len(_acknowledgements(app, first)) == 1


def test_two_posts_before_routing_get_one_reply(app, deliver):
    """Two posts that join one conversation before it is routed still get one acknowledgement."""
    _enable(app)
    deliver(make_post(thread_id="t2", text="first"))
    response = deliver(make_post(thread_id="t2", text="second"))
    conversation_id = response.get_json()["conversation_id"]
    with app.app_context():
        dispatch_once(100)
        route_conversations([conversation_id])
        route_conversations([conversation_id])
    assert len(_acknowledgements(app, conversation_id)) == 1


@pytest.mark.parametrize(("closed_today", "expected"), [(False, IN_HOURS), (True, OUT_OF_HOURS)])
def test_text_follows_the_queue_calendar(app, deliver, closed_today, expected):
    """In business hours by the queue's calendar the in-hours text goes out; on a closed day the other one."""
    _enable(app)
    _calendar(app, closed_today=closed_today)
    conversation_id = _post_and_route(app, deliver, text="hello there")
    [ack] = _acknowledgements(app, conversation_id)
    assert ack.text == expected


def test_out_of_hours_text_defaults_to_the_in_hours_one(app, deliver):
    """Without an out-of-hours text, the in-hours text is sent at any time."""
    _enable(app, out_of_hours="")
    _calendar(app, closed_today=True)
    conversation_id = _post_and_route(app, deliver, text="hello there")
    assert [ack.text for ack in _acknowledgements(app, conversation_id)] == [IN_HOURS]


def test_the_brands_own_post_gets_none(app, deliver):
    """A post by one of the brand's people (an author tagged employee) is not acknowledged."""
    _enable(app)
    first = _post_and_route(app, deliver, author={"id": "staff1", "handle": "sam"}, text="first post")
    with app.app_context():
        message = db.session.scalars(sa.select(Message).where(Message.conversation_id == first)).first()
        message.author.tags = ["employee"]
        db.session.commit()
    own = _post_and_route(app, deliver, author={"id": "staff1", "handle": "sam"}, text="another topic",
                          thread_id="other")
    assert own != first
    assert _acknowledgements(app, own) == []


def test_automatic_mail_gets_none(app, deliver):
    """An inbound message a machine sent (an email auto-reply) is never acknowledged."""
    _enable(app)
    response = deliver(make_post(text="I am out of the office"))
    conversation_id = response.get_json()["conversation_id"]
    with app.app_context():
        db.session.execute(sa.update(Channel).values(kind="email"))
        message = db.session.scalars(sa.select(Message).where(Message.conversation_id == conversation_id)).one()
        message.raw = {"email": {"automatic": "Auto-Submitted: auto-replied"}}
        db.session.commit()
        dispatch_once(100)
        route_conversations([conversation_id])
    assert _acknowledgements(app, conversation_id) == []


def test_admin_api_sets_and_validates_the_settings(app, client, token, channel):
    """Admins turn it on per channel through the channel's PATCH; bad settings are a 400 naming the field."""
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/channels", headers=headers).get_json()["data"]
    assert listed[0]["acknowledgement"] == {"enabled": False, "in_hours": "", "out_of_hours": ""}
    bad = client.patch("/api/v1/channels/forum", headers=headers, json={"acknowledgement": {"enabled": True}})
    assert bad.status_code == 400 and "acknowledgement.in_hours" in bad.get_json()["error"]["message"]
    assert client.patch("/api/v1/channels/forum", headers=headers,
                        json={"acknowledgement": {"enabled": "yes"}}).status_code == 400
    assert client.patch("/api/v1/channels/forum", headers=headers,
                        json={"acknowledgement": {"enabled": True, "in_hours": "x" * 20001}}).status_code == 400
    good = client.patch("/api/v1/channels/forum", headers=headers,
                        json={"acknowledgement": {"enabled": True, "in_hours": " Thanks! "}})
    assert good.status_code == 200
    assert good.get_json()["acknowledgement"] == {"enabled": True, "in_hours": "Thanks!", "out_of_hours": ""}
    off = client.patch("/api/v1/channels/forum", headers=headers, json={"acknowledgement": None})
    assert off.get_json()["acknowledgement"]["enabled"] is False


def test_text_for_picks_by_hours():
    """The settings' text in and out of hours; nothing while disabled."""
    settings = {"enabled": True, "in_hours": "in", "out_of_hours": "out"}
    assert (acknowledgements.text_for(settings, True), acknowledgements.text_for(settings, False)) == ("in", "out")
    assert acknowledgements.text_for({**settings, "enabled": False}, True) is None
    assert acknowledgements.text_for(None, True) is None
