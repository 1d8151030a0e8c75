"""Automations: the shipped defaults, firing once per state (also under concurrent passes), the record, the dry run."""

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from workspace.extensions import db
from workspace.infra.broker import job_queue
from workspace.jobs.tasks import periodic
from workspace.models import (
    Agent,
    AuditEntry,
    Author,
    Automation,
    AutomationFiring,
    Channel,
    Conversation,
    Macro,
    Message,
    Priority,
    Queue,
    utcnow,
)
from workspace.services.automations import engine, library

DAY = timedelta(days=1)


@pytest.fixture
def floor(ctx):
    """A billing queue led by Sue (a supervisor), a forum channel with one customer, and Ana, an agent."""
    sue = Agent(email="sue@example.com", name="Sue", role="supervisor")
    ana = Agent(email="ana@example.com", name="Ana")
    db.session.add_all([Channel(slug="forum", name="Forum", kind="native", secret="s"), sue, ana])
    db.session.flush()
    db.session.add_all([Queue(slug="billing", name="Billing", lead_id=sue.id, members=[ana]),
                        Queue(slug="tech", name="Tech"),
                        Author(channel_id=1, external_id="u1", handle="maya", name="Maya Lopez")])
    db.session.commit()
    return db.session.scalar(sa.select(Queue).where(Queue.slug == "billing"))


def ana() -> Agent:
    return db.session.scalar(sa.select(Agent).where(Agent.name == "Ana"))


def conversation(queue, *, status="pending", agent_reply_ago=None, priority=Priority.NORMAL, **fields) -> int:
    """A conversation of the queue; with agent_reply_ago, Ana replied to it that long ago."""
    now = utcnow()
    fields.setdefault("created_at", now - 10 * DAY)
    row = Conversation(channel_id=1, author_id=1, queue=queue, status=status, priority=priority,
                       last_message_at=fields["created_at"], updated_at=now, subject="Refund", **fields)
    db.session.add(row)
    db.session.flush()
    if agent_reply_ago is not None:
        reply_to(row.id, now - agent_reply_ago)
    db.session.commit()
    return row.id


def reply_to(conversation_id: int, at) -> None:
    db.session.add(Message(conversation_id=conversation_id, channel_id=1, agent_id=ana().id, direction="outbound",
                           text="Could you send us the invoice?", created_at=at, received_at=at))
    db.session.commit()


def enable(key: str) -> Automation:
    library.install_defaults()
    automation = db.session.scalar(sa.select(Automation).where(Automation.key == key))
    automation.enabled = True
    db.session.commit()
    return automation


def firings(conversation_id: int | None = None) -> list[AutomationFiring]:
    query = sa.select(AutomationFiring).order_by(AutomationFiring.id)
    if conversation_id is not None:
        query = query.where(AutomationFiring.conversation_id == conversation_id)
    return list(db.session.scalars(query))


def messages(conversation_id: int, direction: str) -> list[Message]:
    return list(db.session.scalars(sa.select(Message).where(Message.conversation_id == conversation_id,
                                                            Message.direction == direction)))


def test_the_shipped_defaults_are_installed_once_and_disabled(floor):
    """Installing twice adds the three defaults once, all disabled; a pass with none enabled fires nothing."""
    assert len(library.install_defaults()) == 3
    assert library.install_defaults() == []
    rows = library.list_automations()
    assert [row.key for row in rows] == ["remind-pending", "resolve-pending", "escalate-breached-urgent"]
    assert not any(row.enabled for row in rows)
    conversation(floor, agent_reply_ago=10 * DAY)
    assert engine.run_automations() == {"automations": 0, "applied": 0, "failed": 0}


def test_remind_on_pending_fires_once_per_wait_and_is_recorded(floor):
    """Pending 4 days after Ana's reply: one reminder reply and a tag, recorded as a firing, in the explanation
    and the audit log; the next passes add nothing; a new wait (Ana replies again) is a new state."""
    automation = enable("remind-pending")
    stale = conversation(floor, agent_reply_ago=4 * DAY)
    fresh = conversation(floor, agent_reply_ago=DAY)
    assert engine.run_automations()["applied"] == 1
    assert engine.run_automations()["applied"] == 0
    db.session.expire_all()
    row = db.session.get(Conversation, stale)
    [reminder] = [m for m in messages(stale, "outbound") if m.agent_id is None]
    assert reminder.text.startswith("Hi Maya, we are still here") and reminder.delivery_status == "queued"
    assert row.tags == ["reminded"] and row.status == "pending"
    [firing] = firings(stale)
    assert firing.result == "applied" and [c["action"] for c in firing.changes] == ["reply", "add_tags"]
    assert row.explanation["automations"][0]["name"] == automation.name
    assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "automation.fire",
                                                         AuditEntry.target_id == stale)).agent_id is None
    assert firings(fresh) == []
    # The reminder is the system's, not an agent's: it does not restart the wait. Ana answering does.
    reply_to(stale, utcnow() - 3 * DAY - timedelta(hours=1))
    assert engine.run_automations()["applied"] == 1
    assert len(firings(stale)) == 2


def test_resolve_after_seven_days_and_escalate_breached_urgent_to_the_lead(floor):
    """The resolver resolves a week-old wait; a breached urgent conversation goes to the queue's lead with a
    note, and in a queue without a lead the firing records that the assignment was skipped."""
    enable("resolve-pending")
    enable("escalate-breached-urgent")
    old = conversation(floor, agent_reply_ago=8 * DAY)
    tech = db.session.scalar(sa.select(Queue).where(Queue.slug == "tech"))
    urgent = conversation(floor, status="open", priority=Priority.URGENT, sla_status="breached")
    leaderless = conversation(tech, status="open", priority=Priority.URGENT, sla_status="breached")
    assert engine.run_automations()["applied"] == 3
    db.session.expire_all()
    assert db.session.get(Conversation, old).status == "resolved"
    assert db.session.get(Conversation, urgent).assignee.name == "Sue"
    assert [m.text for m in messages(urgent, "note")] == [
        "SLA breached on an urgent conversation: handed to the queue's lead."]
    assert db.session.get(Conversation, leaderless).assignee_id is None
    [skipped] = [c for c in firings(leaderless)[0].changes if c["action"] == "assign"]
    assert skipped["skipped"] == "the queue has no lead"
    assert engine.run_automations()["applied"] == 0


def test_a_refused_action_is_recorded_and_not_retried_in_the_same_state(floor):
    """An automation whose macro is gone fails on its match: the refusal is kept, the conversation unchanged,
    and the next pass does not try again."""
    macro = Macro(name="Gone", template="Hi", actions=[{"type": "reply"}], scope="global")
    db.session.add(macro)
    db.session.commit()
    library.create_automation({"name": "Macro on pending", "enabled": True, "conditions": [
        {"field": "status", "op": "in", "value": ["pending"]}],
        "actions": [{"type": "add_tags", "tags": ["x"]}, {"type": "macro", "macro_id": macro.id}]}, ana())
    db.session.delete(macro)
    db.session.commit()
    target = conversation(floor)
    assert engine.run_automations() == {"automations": 1, "applied": 0, "failed": 1}
    assert engine.run_automations()["failed"] == 0
    [firing] = firings(target)
    assert firing.result == "failed" and "no such macro" in firing.error
    assert db.session.get(Conversation, target).tags == []


def test_a_macro_action_applies_the_macros_reply_and_actions(floor):
    """A macro applied by an automation sends its reply and makes its changes, as the system."""
    macro = Macro(name="Nudge", template="Hello {{ author.first_name }}", scope="global",
                  actions=[{"type": "reply"}, {"type": "priority", "priority": "high"}])
    db.session.add(macro)
    db.session.commit()
    library.create_automation({"name": "Old open", "enabled": True, "conditions": [
        {"field": "status", "op": "in", "value": ["open"]}, {"field": "age_hours", "op": "gte", "value": 48},
        {"field": "tags", "op": "has_none", "value": ["vip"]}],
        "actions": [{"type": "macro", "macro_id": macro.id}]}, ana())
    target = conversation(floor, status="open")
    vip = conversation(floor, status="open", tags=["vip"])
    young = conversation(floor, status="open", created_at=utcnow() - timedelta(hours=2))
    assert engine.run_automations()["applied"] == 1
    db.session.expire_all()
    assert [m.text for m in messages(target, "outbound")] == ["Hello Maya"]
    assert db.session.get(Conversation, target).priority == Priority.HIGH
    assert firings(vip) == [] and firings(young) == []


@pytest.mark.parametrize("passes", [4])
def test_concurrent_passes_fire_once_per_conversation(floor, app, passes):
    """Four passes at once (as two schedulers or a retried job would run them) fire each match exactly once:
    one firing, one reminder, one tag each."""
    enable("remind-pending")
    targets = [conversation(floor, agent_reply_ago=4 * DAY) for _ in range(12)]
    db.session.remove()
    barrier, errors, totals = threading.Barrier(passes), [], []

    def work():
        with app.app_context():
            try:
                barrier.wait()
                totals.append(engine.run_automations()["applied"])
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(passes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(totals) == len(targets)
    for target in targets:
        assert len(firings(target)) == 1
        assert len([m for m in messages(target, "outbound") if m.agent_id is None]) == 1


def test_dry_run_lists_matches_without_writing_and_marks_those_already_fired(floor):
    """A draft's dry run lists what would fire and writes nothing; a saved one's marks the state it fired in."""
    automation = enable("remind-pending")
    stale = conversation(floor, agent_reply_ago=4 * DAY)
    conversation(floor, agent_reply_ago=DAY)
    result = engine.dry_run(automation.conditions, automation.actions)
    assert [m["id"] for m in result["matches"]] == [stale] and result["complete"]
    assert result["actions"] == ["send a reply", "add tags reminded"]
    assert firings() == [] and messages(stale, "outbound")[0].agent_id is not None
    engine.run_automations()
    again = engine.dry_run(automation.conditions, automation.actions, automation.id)
    assert again["matches"] == [{"id": stale, "subject": "Refund", "status": "pending", "queue": "billing",
                                 "priority": "normal", "already_fired": True}]


def test_the_periodic_job_installs_the_defaults_and_fires_through_a_real_worker(floor, app, run_jobs):
    """The scheduler's job, run by a real RQ worker, installs the shipped automations and fires the enabled ones."""
    library.install_defaults()
    enable("resolve-pending")
    target = conversation(floor, agent_reply_ago=8 * DAY)
    db.session.remove()
    job_queue().enqueue(periodic.run_automations)
    run_jobs()
    assert db.session.get(Conversation, target).status == "resolved"
    assert len(library.list_automations()) == 3
