"""On call: a queue's rota (weekly shifts, a day's overrides, past midnight) in its calendar's time zone; out of
hours an urgent conversation goes to the first person on call, then to the next when nobody opened it."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from tests.factories import make_post
from tests.services.notifications.conftest import call
from workspace.extensions import db
from workspace.jobs.dispatch import dispatch_once
from workspace.models import BusinessCalendar, Notification, Queue, SlaPolicy, queue_members, utcnow
from workspace.services.notifications import on_call, triggers

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


def rota(client, team, shifts, who="ada"):
    return call(client, team, who, "put", "/queues/billing/on-call", json={"shifts": shifts})


def all_week(agent_id, position):
    """Two shifts a day that cover every minute of every day."""
    return [{"agent_id": agent_id, "weekday": day, "start": start, "end": end, "position": position}
            for day in range(7) for start, end in (("00:00", "12:00"), ("12:00", "00:00"))]


def test_in_hours_the_queue_gets_it_out_of_hours_the_rota_in_order_with_overrides(app, client, team):
    """Billing works 09-17 in Paris: at 10:00 the whole queue; at 20:00 Bo then Ann (their evening shift), still
    at 03:00 the next morning (past midnight); on the overridden Wednesday only Ann; Cy (tech) cannot be on call."""
    ann, bo, cy = team["ann"][0], team["bo"][0], team["cy"][0]
    with app.app_context():
        calendar = BusinessCalendar(name="Paris office", time_zone="Europe/Paris",
                                    hours={d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")})
        db.session.add(calendar)
        db.session.flush()
        queue_id = db.session.scalar(sa.select(Queue.id).where(Queue.slug == "billing"))
        db.session.add(SlaPolicy(queue_id=queue_id, priority=0, first_reply_minutes=30, business_hours=True,
                                 calendar_id=calendar.id))
        db.session.commit()
    evenings = [{"agent_id": who, "weekday": day, "start": "17:00", "end": "09:00", "position": position}
                for day in range(5) for who, position in ((bo, 0), (ann, 1))]
    override = [{"agent_id": ann, "date": "2026-03-04", "start": "17:00", "end": "23:00"}]
    assert rota(client, team, evenings + override).status_code == 200
    refused = rota(client, team, [{"agent_id": cy, "weekday": 0, "start": "17:00", "end": "09:00"}])
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "not_a_member"
    assert rota(client, team, evenings, who="sue").status_code == 403
    with app.app_context():
        at = lambda hours: on_call.urgent_recipients(queue_id, MONDAY + timedelta(hours=hours))  # noqa: E731
        assert at(9) == ([ann, bo], False)  # 10:00 in Paris
        assert at(19) == ([bo, ann], True)  # 20:00
        assert at(26) == ([bo, ann], True)  # Tuesday 03:00, Monday's shift
        assert at(2 * 24 + 19) == ([ann], True)  # Wednesday 20:00: the day's override
        db.session.execute(sa.delete(queue_members).where(queue_members.c.agent_id == bo))
        db.session.commit()
        assert at(19) == ([ann], True)  # removed from the queue: no longer on call for it
    listed = call(client, team, "sue", "get", "/queues/billing/on-call").get_json()["data"]
    assert len(listed) == 11 and listed[-1]["date"] == "2026-03-04"


def test_an_urgent_post_out_of_hours_goes_to_the_first_on_call_then_escalates(app, client, team, deliver, run_jobs):
    """Without a calendar, a queue with someone on call is out of hours: Bo (first) is told, Ann is not; ten
    minutes unopened and Ann is told; once she opens it nothing more; the dashboard's list names them."""
    ann, bo = team["ann"][0], team["bo"][0]
    assert rota(client, team, all_week(bo, 0) + all_week(ann, 1)).status_code == 200
    now_on_call = call(client, team, "sue", "get", "/on-call").get_json()["data"]
    assert now_on_call == [{"queue": "billing", "in_hours": False,
                            "agents": [{"id": bo, "name": "Bo"}, {"id": ann, "name": "Ann"}]}]
    conversation_id = deliver(make_post(text="I was charged twice", author={"id": "oc", "handle": "oc", "name": "O"})
                              ).get_json()["conversation_id"]
    with app.app_context():
        dispatch_once(100)
    run_jobs()

    def told():
        with app.app_context():
            rows = db.session.execute(sa.select(Notification.agent_id, Notification.key)
                                      .where(Notification.conversation_id == conversation_id)
                                      .order_by(Notification.id)).all()
            db.session.remove()
        return [tuple(row) for row in rows]

    assert told() == [(bo, f"oncall:{conversation_id}:0")]
    with app.app_context():
        assert triggers.escalate(utcnow() + timedelta(minutes=5)) == 0  # not yet
        assert triggers.escalate(utcnow() + timedelta(minutes=11)) == 1
        assert triggers.escalate(utcnow() + timedelta(minutes=30)) == 0  # Ann's turn, nobody after her
    assert told() == [(bo, f"oncall:{conversation_id}:0"), (ann, f"oncall:{conversation_id}:1")]
    call(client, team, "ann", "post", "/notifications/read", json={"conversation_id": conversation_id})
    with app.app_context():
        assert triggers.escalate(utcnow() + timedelta(hours=1)) == 0
