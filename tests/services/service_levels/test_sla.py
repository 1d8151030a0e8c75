"""SLA clocks on conversations (frozen time: every call is given its `now`), the watcher, and its live events."""

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.factories import make_config
from workspace.extensions import db
from workspace.jobs.tasks import periodic
from workspace.live import publish
from workspace.models import NOT_DUE, Author, BusinessCalendar, Channel, Conversation, Queue, SlaOutcome, SlaPolicy
from workspace.services.service_levels import clocks

MONDAY_10 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # 10:00 in Paris
WEEKDAYS = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture
def queue(ctx):
    """A billing queue on a forum channel, with one customer."""
    db.session.add_all([Channel(slug="forum", name="Forum", kind="native", secret="s"),
                        Queue(slug="billing", name="Billing", sla_minutes={"normal": 60})])
    db.session.flush()
    db.session.add(Author(channel_id=1, external_id="u1", handle="maya", name="Maya"))
    db.session.commit()
    return db.session.scalar(sa.select(Queue).where(Queue.slug == "billing"))


def conversation(queue, at: datetime, *, priority: int = 2) -> Conversation:
    """A customer post routed into the queue at `at`, clocks started then."""
    row = Conversation(channel_id=1, author_id=1, queue=queue, status="open", priority=priority,
                       waiting_since=at, last_message_at=at, created_at=at, updated_at=at)
    db.session.add(row)
    db.session.flush()
    clocks.sync(row, at)
    db.session.commit()
    return row


def business_policy(queue, **minutes) -> SlaPolicy:
    calendar = BusinessCalendar(name="Paris office", time_zone="Europe/Paris", hours=WEEKDAYS,
                                holidays=[{"name": "Closed", "start": "2026-03-04"}])
    policy = SlaPolicy(queue=queue, priority=2, business_hours=True, calendar=calendar, at_risk_fraction=0.5,
                       **{f"{target}_minutes": value for target, value in minutes.items()})
    db.session.add(policy)
    db.session.commit()
    return policy


def at(conversation: Conversation, target: str, key: str = "due_at") -> datetime:
    return datetime.fromisoformat(conversation.sla_clock[target][key])


def test_without_a_policy_the_queues_first_reply_minutes_run_in_calendar_time(queue):
    """The plain queue target applies: due an hour after the post, at risk at 75% of it."""
    row = conversation(queue, MONDAY_10)
    assert list(row.sla_clock) == ["first_reply"]
    assert row.sla_due_at == MONDAY_10 + timedelta(hours=1)
    assert row.sla_check_at == MONDAY_10 + timedelta(minutes=45)
    assert row.sla_status == "ok"


def test_a_business_hours_policy_counts_only_open_time_and_runs_every_target(queue):
    """Posted Monday 16:00 Paris, 2 business hours to reply is Tuesday 10:00; resolution skips the holiday."""
    business_policy(queue, first_reply=120, next_reply=30, resolution=16 * 60)
    row = conversation(queue, datetime(2026, 3, 2, 15, tzinfo=UTC))
    assert sorted(row.sla_clock) == ["first_reply", "resolution"]
    assert at(row, "first_reply") == datetime(2026, 3, 3, 9, tzinfo=UTC)
    assert at(row, "first_reply", "at_risk_at") == datetime(2026, 3, 2, 16, tzinfo=UTC)  # half of it: 17:00 Paris
    # 1 h Monday, 8 h Tuesday, Wednesday is a holiday, 7 h Thursday: Thursday 16:00 Paris.
    assert at(row, "resolution") == datetime(2026, 3, 5, 15, tzinfo=UTC)
    assert row.sla_due_at == at(row, "first_reply")


def test_a_reply_meets_the_first_reply_target_and_a_follow_up_starts_the_next_reply_clock(queue):
    """Replying records a hit; the customer's next post starts next reply from that post."""
    business_policy(queue, first_reply=120, next_reply=30, resolution=16 * 60)
    row = conversation(queue, MONDAY_10)
    replied = MONDAY_10 + timedelta(minutes=40)
    row.first_reply_at, row.waiting_since = replied, None
    clocks.sync(row, replied)
    db.session.commit()
    assert sorted(row.sla_clock) == ["resolution"] and row.sla_due_at == at(row, "resolution")
    outcome = db.session.scalar(sa.select(SlaOutcome))
    assert (outcome.target, outcome.met, outcome.completed_at) == ("first_reply", True, replied)
    follow_up = MONDAY_10 + timedelta(hours=2)
    row.waiting_since = follow_up
    clocks.sync(row, follow_up)
    assert at(row, "next_reply") == follow_up + timedelta(minutes=30)
    assert row.sla_due_at == follow_up + timedelta(minutes=30)


def test_pending_on_the_customer_pauses_every_clock_and_the_pause_does_not_count(queue):
    """Pending for three hours (calendar time) moves the due time three hours later; nothing is due meanwhile."""
    db.session.add(SlaPolicy(queue=queue, priority=2, first_reply_minutes=60, resolution_minutes=240))
    db.session.commit()
    row = conversation(queue, MONDAY_10)
    due_before = at(row, "resolution")
    row.status = "pending"
    clocks.sync(row, MONDAY_10 + timedelta(minutes=10))
    assert row.sla_due_at == NOT_DUE and row.sla_check_at == NOT_DUE and row.sla_paused_at is not None
    row.status = "open"
    clocks.sync(row, MONDAY_10 + timedelta(hours=3, minutes=10))
    assert at(row, "resolution") == due_before + timedelta(hours=3)
    assert row.sla_paused_at is None and row.sla_due_at == at(row, "first_reply")


def test_escalated_to_a_ticket_pauses_every_clock_like_pending_and_re_opening_resumes_them(queue):
    """Two hours with the ticketing system move the due times two hours later; nothing is due or watched meanwhile."""
    db.session.add(SlaPolicy(queue=queue, priority=2, first_reply_minutes=60, resolution_minutes=240))
    db.session.commit()
    row = conversation(queue, MONDAY_10)
    due_before = {target: at(row, target) for target in ("first_reply", "resolution")}
    row.status = "escalated"
    clocks.sync(row, MONDAY_10 + timedelta(minutes=10))
    assert row.sla_due_at == NOT_DUE and row.sla_check_at == NOT_DUE and row.sla_paused_at is not None
    assert clocks.check(MONDAY_10 + timedelta(hours=2)) == {"at_risk": 0, "breached": 0}
    row.status = "open"  # the ticket was solved
    clocks.sync(row, MONDAY_10 + timedelta(hours=2, minutes=10))
    assert {target: at(row, target) for target in due_before} == {
        target: due + timedelta(hours=2) for target, due in due_before.items()}
    assert row.sla_paused_at is None and row.sla_status == "ok"


def test_a_follow_up_while_escalated_starts_next_reply_only_when_the_conversation_re_opens(queue):
    """The customer writes an hour into the escalation: next reply waits, then gets its full 30 minutes."""
    db.session.add(SlaPolicy(queue=queue, priority=2, first_reply_minutes=60, next_reply_minutes=30))
    db.session.commit()
    row = conversation(queue, MONDAY_10)
    row.first_reply_at, row.waiting_since = MONDAY_10 + timedelta(minutes=5), None
    clocks.sync(row, MONDAY_10 + timedelta(minutes=5))
    row.status = "escalated"
    clocks.sync(row, MONDAY_10 + timedelta(minutes=10))
    row.waiting_since = MONDAY_10 + timedelta(hours=1)
    clocks.sync(row, row.waiting_since)
    assert row.sla_due_at == NOT_DUE and list(row.sla_clock) == ["next_reply"]
    row.status = "open"
    clocks.sync(row, MONDAY_10 + timedelta(hours=3))
    assert at(row, "next_reply") == row.sla_due_at == MONDAY_10 + timedelta(hours=3, minutes=30)


def test_a_pause_over_a_closed_night_costs_nothing_in_business_time(queue):
    """Paused Monday 16:00 Paris, resumed Tuesday 09:00: the evening and night were closed anyway."""
    business_policy(queue, resolution=16 * 60)
    row = conversation(queue, MONDAY_10)
    due_before = at(row, "resolution")
    row.status = "pending"
    clocks.sync(row, datetime(2026, 3, 2, 15, tzinfo=UTC))  # 16:00 Paris
    row.status = "open"
    clocks.sync(row, datetime(2026, 3, 3, 8, tzinfo=UTC))  # Tuesday 09:00 Paris
    # One business hour (16:00-17:00 Monday) was paused; due moves one business hour later.
    assert at(row, "resolution") == clocks.add_business_time(due_before, 60, clocks.Policies().calendar(1))


def test_changing_priority_re_plans_from_the_same_start(queue):
    """An urgent policy replaces the normal one's due time, counted from the original post."""
    db.session.add(SlaPolicy(queue=queue, priority=0, first_reply_minutes=15))
    db.session.commit()
    row = conversation(queue, MONDAY_10)
    row.priority = 0
    clocks.sync(row, MONDAY_10 + timedelta(minutes=5))
    assert row.sla_due_at == MONDAY_10 + timedelta(minutes=15)


def test_resolving_scores_resolution_and_drops_an_unanswered_reply_clock(queue):
    """Resolved in time is a hit; the reply clock of a post nobody had to answer is not scored."""
    db.session.add(SlaPolicy(queue=queue, priority=2, first_reply_minutes=60, resolution_minutes=240))
    db.session.commit()
    row = conversation(queue, MONDAY_10)
    row.status = "resolved"
    clocks.sync(row, MONDAY_10 + timedelta(hours=1, minutes=30))
    db.session.commit()
    outcomes = db.session.execute(sa.select(SlaOutcome.target, SlaOutcome.met)).all()
    assert outcomes == [("resolution", True)]
    assert row.sla_clock is None and row.sla_status is None and row.sla_due_at == NOT_DUE


def test_the_watcher_marks_at_risk_then_breached_records_the_miss_and_announces_both(queue, monkeypatch):
    """At 75% the clock is at risk; at 100% breached, with a miss recorded at once and filled in when answered."""
    from workspace.live import publish

    sent = []
    monkeypatch.setattr(publish.socketio, "emit", lambda name, data, to=None: sent.append((name, to, data)))
    row = conversation(queue, MONDAY_10)
    assert clocks.check(MONDAY_10 + timedelta(minutes=30)) == {"at_risk": 0, "breached": 0}
    assert clocks.check(MONDAY_10 + timedelta(minutes=50)) == {"at_risk": 1, "breached": 0}
    db.session.refresh(row)
    assert row.sla_status == "at_risk" and row.sla_check_at == MONDAY_10 + timedelta(hours=1)
    assert clocks.check(MONDAY_10 + timedelta(minutes=61)) == {"at_risk": 0, "breached": 1}
    assert clocks.check(MONDAY_10 + timedelta(minutes=90)) == {"at_risk": 0, "breached": 0}  # told once
    db.session.refresh(row)
    assert row.sla_status == "breached" and row.sla_check_at == NOT_DUE
    miss = db.session.scalar(sa.select(SlaOutcome))
    assert (miss.target, miss.met, miss.completed_at) == ("first_reply", False, None)
    names = [(name, to) for name, to, _ in sent if name.startswith("sla.")]
    assert names == [("sla.at_risk", f"queue:{queue.id}"), ("sla.breached", f"queue:{queue.id}")]
    updated = [data["conversations"][0]["sla_status"] for name, to, data in sent
               if name == "conversation.updated" and to == f"queue:{queue.id}"]
    assert updated == ["at_risk", "breached"]
    answered = MONDAY_10 + timedelta(hours=2)
    row.first_reply_at, row.waiting_since = answered, None
    clocks.sync(row, answered)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SlaOutcome)) == 1
    assert db.session.scalar(sa.select(SlaOutcome)).completed_at == answered


def test_a_conversation_already_late_when_routed_goes_straight_to_breached(queue):
    """A clock past both thresholds at the first look is breached, with one event, not at risk first."""
    row = conversation(queue, MONDAY_10)
    assert clocks.check(MONDAY_10 + timedelta(days=1)) == {"at_risk": 0, "breached": 1}
    db.session.refresh(row)
    assert row.sla_status == "breached"


def test_the_watcher_works_in_batches_and_leaves_the_rest_alone(queue, app):
    """With batches of 2, five late conversations are all found; paused and answered ones are not touched."""
    app.config["SLA_CHECK_BATCH"] = 2
    late = [conversation(queue, MONDAY_10 + timedelta(minutes=i)) for i in range(5)]
    paused = conversation(queue, MONDAY_10)
    paused.status = "pending"
    clocks.sync(paused, MONDAY_10 + timedelta(minutes=1))
    fresh = conversation(queue, MONDAY_10 + timedelta(hours=5))
    db.session.commit()
    assert clocks.check(MONDAY_10 + timedelta(hours=5)) == {"at_risk": 0, "breached": 5}
    statuses = dict(db.session.execute(sa.select(Conversation.id, Conversation.sla_status)).all())
    assert [statuses[c.id] for c in late] == ["breached"] * 5
    assert statuses[paused.id] == "ok" and statuses[fresh.id] == "ok"


def published(listener) -> list[dict]:
    """Every Socket.IO message the listener got (it yields None for skipped subscribe replies, so poll to the end)."""
    received = []
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        message = listener.get_message(timeout=0.2)
        if message is not None:
            received.append(json.loads(message["data"]))
        elif received:
            break
    listener.close()
    return received


def test_the_watcher_job_on_a_real_worker_publishes_through_redis(queue, app, redis, run_jobs):
    """Run by a real RQ worker, the breach reaches the Socket.IO message queue on Redis for the queue's room."""
    from workspace.infra.broker import job_queue

    conversation(queue, datetime.now(UTC) - timedelta(hours=2))
    room = f"queue:{queue.id}"
    listener = redis.pubsub(ignore_subscribe_messages=True)
    listener.subscribe("flask-socketio")
    job_queue().enqueue(periodic.check_slas)
    db.session.remove()
    run_jobs()
    received = published(listener)
    breached = [m for m in received if m.get("event") == "sla.breached"]
    assert len(breached) == 1 and breached[0]["room"] == room
    (payload,) = breached[0]["data"]  # the event's arguments
    assert payload["items"][0]["target"] == "first_reply"


def test_a_routed_post_starts_its_clocks(app, deliver, run_jobs):
    """Through the webhook and the routing job, a conversation carries its first-reply and resolution clocks."""
    from tests.factories import make_post
    from workspace.jobs.dispatch import dispatch_once

    with app.app_context():
        billing = db.session.scalar(sa.select(Queue).where(Queue.slug == "billing"))
        for level in range(4):
            db.session.add(SlaPolicy(queue=billing, priority=level, first_reply_minutes=30, resolution_minutes=600))
        db.session.commit()
        conversation_id = deliver(make_post(text="@billing my invoice is wrong")).get_json()["conversation_id"]
        dispatch_once(100)
    run_jobs()
    with app.app_context():
        row = db.session.get(Conversation, conversation_id)
        assert sorted(row.sla_clock) == ["first_reply", "resolution"]
        assert row.sla_due_at == row.waiting_since + timedelta(minutes=30)


def test_config_default_fraction_applies_when_a_policy_sets_none(queue, app):
    """A policy without its own fraction uses SWITCHBOARD_SLA_AT_RISK_FRACTION."""
    assert make_config().SLA_AT_RISK_FRACTION == 0.75
    app.config["SLA_AT_RISK_FRACTION"] = 0.5
    db.session.add(SlaPolicy(queue=queue, priority=2, first_reply_minutes=100))
    db.session.commit()
    row = conversation(queue, MONDAY_10)
    assert row.sla_check_at == MONDAY_10 + timedelta(minutes=50)


def test_a_policy_or_calendar_change_re_plans_open_conversations_through_a_job(queue, app, run_jobs):
    """Tightening the policy moves due times earlier; a new holiday in its calendar moves them later."""
    from workspace.services.service_levels import admin

    monday_16 = datetime(2026, 3, 2, 15, tzinfo=UTC)  # 16:00 Paris
    conversation_id = conversation(queue, monday_16).id
    business_policy(queue, first_reply=240)
    queue = db.session.get(Queue, queue.id)
    admin.save_policy(queue, "normal", {"first_reply_minutes": 120, "business_hours": True,
                                            "calendar": "Paris office"}, None)
    db.session.remove()
    run_jobs()
    assert db.session.get(Conversation, conversation_id).sla_due_at == datetime(2026, 3, 3, 9, tzinfo=UTC)
    calendar = db.session.scalar(sa.select(BusinessCalendar))
    admin.save_calendar(calendar, {"holidays": [*calendar.holidays, {"name": "Strike", "start": "2026-03-03"}]},
                            None)
    db.session.remove()
    run_jobs()
    # Tuesday closed, Wednesday the old holiday: 1 h Monday, then Thursday 09:00-10:00 Paris.
    assert db.session.get(Conversation, conversation_id).sla_due_at == datetime(2026, 3, 5, 9, tzinfo=UTC)


def test_a_looser_target_clears_at_risk_but_only_the_watcher_moves_a_clock_forward(queue, monkeypatch):
    """Re-planned to a longer target, an at-risk clock is ok again; re-planned shorter, it waits for the watcher."""
    monkeypatch.setattr(publish.socketio, "emit", lambda *args, **kwargs: None)
    row = conversation(queue, MONDAY_10)
    clocks.check(MONDAY_10 + timedelta(minutes=50))
    assert row.sla_status == "at_risk"
    queue.sla_minutes = {"normal": 600}
    clocks.sync(row, MONDAY_10 + timedelta(minutes=55), replan=True)
    assert row.sla_status == "ok" and row.sla_check_at == MONDAY_10 + timedelta(minutes=450)
    queue.sla_minutes = {"normal": 20}
    clocks.sync(row, MONDAY_10 + timedelta(minutes=56), replan=True)
    assert row.sla_status == "ok" and row.sla_check_at == MONDAY_10 + timedelta(minutes=15)  # overdue for a look
    db.session.commit()
    assert clocks.check(MONDAY_10 + timedelta(minutes=57)) == {"at_risk": 0, "breached": 1}
