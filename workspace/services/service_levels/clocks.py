"""SLA clocks on conversations: started, paused, re-planned, stopped, watched, and recorded as hit or miss.

Each conversation keeps its running clocks in `sla_clock` (one per target:
first reply, next reply, resolution) and three columns derived from them:
`sla_due_at` (the nearest due time: the queue order), `sla_status` (the worst
state: ok, at_risk or breached) and `sla_check_at` (when the watcher must look
next). `sync` is called wherever a conversation changes (routing, replies,
status, queue, priority); `check` is the periodic watcher that moves clocks
to at risk and breached and tells the queue rooms.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from sla import Calendar, add_business_time, business_minutes_between, parse_calendar
from workspace.extensions import db
from workspace.live import signals
from workspace.live.changes import Changes
from workspace.live.publish import publish
from workspace.live.rooms import queue_room
from workspace.models import (
    NOT_DUE,
    TARGETS,
    BusinessCalendar,
    Conversation,
    Priority,
    Queue,
    SlaOutcome,
    SlaPolicy,
    utcnow,
)
from workspace.serializers import SERIALIZED

STATES = ("ok", "at_risk", "breached")
REPLY_TARGETS = ("first_reply", "next_reply")
# Statuses in which work is owed, so clocks run (some paused, not stopped).
RUNNING_STATUSES = ("open", "pending", "escalated")
# Statuses in which the clocks are paused: the customer owes an answer
# (pending), or the ticketing system holds the work (escalated) until its
# ticket is solved and the conversation re-opens.
PAUSED_STATUSES = ("pending", "escalated")


def sla_minutes(queue: Queue, priority: Priority) -> int:
    """Return the queue's plain first-reply target for a priority (its `sla_minutes`, or the app default)."""
    targets = {**current_app.config["DEFAULT_SLA_MINUTES"], **(queue.sla_minutes or {})}
    return int(targets[priority.label])


@dataclass(frozen=True)
class Policy:
    """The targets (minutes) that apply to one queue and priority, and how they count time."""

    minutes: dict[str, int]
    calendar: Calendar | None
    calendar_id: int | None
    at_risk_fraction: float


class Policies:
    """Policies and parsed calendars, loaded once for a batch of conversations."""

    def __init__(self):
        self._rows = {(p.queue_id, p.priority): p for p in db.session.scalars(sa.select(SlaPolicy))}
        self._calendars: dict[int, Calendar] = {}

    def calendar(self, calendar_id: int) -> Calendar:
        """The parsed calendar with this id."""
        if calendar_id not in self._calendars:
            row = db.session.get(BusinessCalendar, calendar_id)
            self._calendars[calendar_id] = parse_calendar(row.time_zone, row.hours, row.holidays)
        return self._calendars[calendar_id]

    def reply_minutes(self, queue: Queue, priority: Priority) -> int:
        """The minutes within which a reply is due in this queue at this priority: its SLA policy's first-reply
        target (its next-reply one without), else the queue's plain minutes. Priority's waiting factor
        measures against this, so urgent billing at 30 minutes is not judged by a 480-minute default."""
        row = self._rows.get((queue.id, priority.value)) if queue.id is not None else None
        minutes = row and (row.first_reply_minutes or row.next_reply_minutes)
        return int(minutes) if minutes else sla_minutes(queue, priority)

    def for_conversation(self, conversation: Conversation) -> Policy:
        """The policy of the conversation's queue and priority (a first-reply default without one)."""
        default_fraction = current_app.config["SLA_AT_RISK_FRACTION"]
        row = self._rows.get((conversation.queue.id, conversation.priority))
        if row is None:
            minutes = sla_minutes(conversation.queue, Priority(conversation.priority))
            return Policy({"first_reply": minutes}, None, None, default_fraction)
        minutes = {target: getattr(row, f"{target}_minutes") for target in TARGETS}
        calendar_id = row.calendar_id if row.business_hours else None
        return Policy({t: m for t, m in minutes.items() if m}, self.calendar(calendar_id) if calendar_id else None,
                      calendar_id, row.at_risk_fraction or default_fraction)


def sync(conversation: Conversation, now: datetime, policies: Policies | None = None, *,
         replan: bool = False) -> None:
    """Bring the conversation's clocks in line with its state and policy (call before committing).

    Starts the clocks its state calls for, stops the ones it no longer does
    (recording hit or miss), pauses them while pending or escalated and
    resumes them after (the paused time does not count), re-plans due times
    when the policy changed (queue moved, priority changed, policy edited),
    and refreshes the derived columns. With `replan`, every running clock's
    instants are recomputed (its calendar's hours or holidays changed).
    """
    policies = policies or Policies()
    clock = {target: dict(entry) for target, entry in (conversation.sla_clock or {}).items()}
    running = conversation.status in RUNNING_STATUSES and conversation.queue is not None
    policy = policies.for_conversation(conversation) if running else None
    paused = conversation.status in PAUSED_STATUSES
    if conversation.sla_paused_at is not None and not paused:
        _resume(clock, conversation.sla_paused_at, now, policies)
        conversation.sla_paused_at = None
    wanted = _wanted_starts(conversation, clock, policy, now) if running else {}
    for target in [t for t in clock if t not in wanted or wanted[t] != _at(clock[t]["started_at"])]:
        _stop(conversation, target, clock.pop(target), now)
    for target, started_at in wanted.items():
        entry = clock.get(target)
        if (replan or entry is None or entry["minutes"] != policy.minutes[target]
                or entry["calendar_id"] != policy.calendar_id):
            clock[target] = _plan(started_at, policy.minutes[target], policy, (entry or {}).get("state", "ok"), now)
    if paused and conversation.sla_paused_at is None and clock:
        conversation.sla_paused_at = now
    conversation.sla_clock = clock or None
    _refresh(conversation)


def _wanted_starts(conversation: Conversation, clock: dict, policy: Policy, now: datetime) -> dict[str, datetime]:
    """Which targets should run, and since when (resolution: since the customer began waiting, or now)."""
    wanted = {}
    if conversation.waiting_since is not None:
        target = "next_reply" if conversation.first_reply_at else "first_reply"
        wanted[target] = conversation.waiting_since
    resolution = clock.get("resolution")
    wanted["resolution"] = (_at(resolution["started_at"]) if resolution
                            else conversation.waiting_since or now)
    return {target: start for target, start in wanted.items() if target in policy.minutes}


def _plan(started_at: datetime, minutes: int, policy: Policy, state: str, now: datetime) -> dict:
    """A clock entry: due and at-risk instants counted in the policy's time.

    A re-planned clock keeps its state unless the new plan puts it back: a
    looser target clears "at risk", but only the watcher moves a clock
    forward, so each step is announced once.
    """
    due_at = add_business_time(started_at, minutes, policy.calendar)
    at_risk_at = add_business_time(started_at, minutes * policy.at_risk_fraction, policy.calendar)
    implied = "breached" if due_at <= now else "at_risk" if at_risk_at <= now else "ok"
    return {"started_at": _iso(started_at), "minutes": minutes, "calendar_id": policy.calendar_id,
            "state": min(state, implied, key=STATES.index), "due_at": _iso(due_at), "at_risk_at": _iso(at_risk_at)}


def _resume(clock: dict, paused_at: datetime, now: datetime, policies: Policies) -> None:
    """Move every running clock's instants later by the open time spent paused.

    A clock started during the pause (a customer's follow-up while escalated)
    has had no running time yet: it gets all of its time from now.
    """
    for entry in clock.values():
        calendar = policies.calendar(entry["calendar_id"]) if entry["calendar_id"] else None
        since = max(paused_at, _at(entry["started_at"]))
        for key in ("due_at", "at_risk_at"):
            moment = _at(entry[key])
            if moment > since:  # a threshold already passed stays passed
                left = business_minutes_between(since, moment, calendar)
                entry[key] = _iso(add_business_time(now, left, calendar))


def _stop(conversation: Conversation, target: str, entry: dict, now: datetime) -> None:
    """End a clock: replies and resolution are hits or misses; anything else just ends it."""
    # A reply clock is met by a reply (nobody is waiting any more); resolved
    # without one, or spam, it is dropped rather than scored.
    done = conversation.waiting_since is None if target in REPLY_TARGETS else conversation.status == "resolved"
    if done or entry["state"] == "breached":
        _record_outcome(conversation, target, entry, completed_at=now if done else None)


def _record_outcome(conversation: Conversation, target: str, entry: dict, *, completed_at: datetime | None) -> None:
    """Record a target's hit or miss once per run of its clock; a later completion fills in when."""
    started_at, due_at = _at(entry["started_at"]), _at(entry["due_at"])
    row = db.session.scalar(sa.select(SlaOutcome).where(
        SlaOutcome.conversation_id == conversation.id, SlaOutcome.target == target,
        SlaOutcome.started_at == started_at))
    if row is None:
        db.session.add(_outcome(conversation, target, entry, completed_at=completed_at,
                                met=completed_at is not None and completed_at <= due_at))
    elif completed_at is not None and row.completed_at is None:
        row.completed_at = completed_at


def _refresh(conversation: Conversation) -> None:
    """Derive sla_due_at, sla_status and sla_check_at from the clocks."""
    clock = conversation.sla_clock or {}
    if not clock:
        conversation.sla_due_at, conversation.sla_status, conversation.sla_check_at = NOT_DUE, None, NOT_DUE
        return
    conversation.sla_status = max((entry["state"] for entry in clock.values()), key=STATES.index)
    if conversation.sla_paused_at is not None:
        conversation.sla_due_at = conversation.sla_check_at = NOT_DUE
        return
    conversation.sla_due_at = min(_at(entry["due_at"]) for entry in clock.values())
    upcoming = [_at(entry["at_risk_at"] if entry["state"] == "ok" else entry["due_at"])
                for entry in clock.values() if entry["state"] != "breached"]
    conversation.sla_check_at = min(upcoming, default=NOT_DUE)


def resync(queue_id: int, priority: int | None = None, now: datetime | None = None) -> int:
    """Re-plan the clocks of a queue's active conversations (one level, or all) after their policy or calendar changed.

    Works in batches of SLA_CHECK_BATCH by id, one transaction each.

    Returns:
        How many conversations were looked at.
    """
    now = now or utcnow()
    batch, after, seen = current_app.config["SLA_CHECK_BATCH"], 0, 0
    while True:
        query = (sa.select(Conversation)
                 .where(Conversation.queue_id == queue_id, Conversation.status.in_(RUNNING_STATUSES),
                        Conversation.id > after)
                 .order_by(Conversation.id).limit(batch))
        if priority is not None:
            query = query.where(Conversation.priority == priority)
        rows = db.session.scalars(query.options(*SERIALIZED)).unique().all()
        policies = Policies()
        changes = Changes()
        for conversation in rows:
            sla_before = (conversation.sla_due_at, conversation.sla_status)
            sync(conversation, now, policies, replan=True)
            if (conversation.sla_due_at, conversation.sla_status) != sla_before:
                db.session.flush()
                changes.add(conversation, "updated")
        db.session.commit()
        changes.publish()
        seen += len(rows)
        if len(rows) < batch:
            return seen
        after = rows[-1].id


def check(now: datetime | None = None) -> dict:
    """The watcher: move clocks whose moment came to at risk or breached, and announce them.

    Reads conversations by the `sla_check_at` index (a range scan of those due
    for a look, oldest first), a batch per transaction. Misses are recorded
    the moment they happen.

    Returns:
        How many clocks went at risk and how many breached.
    """
    now = now or utcnow()
    batch = current_app.config["SLA_CHECK_BATCH"]
    totals = {"at_risk": 0, "breached": 0}
    while True:
        query = (sa.select(Conversation)
                 .where(Conversation.sla_check_at <= sa.literal(now, type_=Conversation.sla_check_at.type))
                 .order_by(Conversation.sla_check_at, Conversation.id).limit(batch))
        if db.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=Conversation)
        rows = db.session.scalars(query.options(*SERIALIZED)).unique().all()
        alerts: dict[str, dict[int, list]] = {"at_risk": defaultdict(list), "breached": defaultdict(list)}
        changes = Changes()
        misses = []
        for conversation in rows:
            for target, state, entry in _advance(conversation, now):
                alerts[state][conversation.queue_id].append(
                    {"conversation_id": conversation.id, "target": target, "due_at": entry["due_at"]})
                totals[state] += 1
                if state == "breached":
                    misses.append((conversation, target, entry))
                elif conversation.assignee_id is not None:
                    changes.request(signals.sla_at_risk, conversation.id)  # its agent is told
            changes.add(conversation, "updated")
        _record_misses(misses)
        db.session.commit()
        for state, by_queue in alerts.items():
            for queue_id, items in by_queue.items():
                publish(f"sla.{state}", {"queue_id": queue_id, "items": items}, queue_room(queue_id))
        changes.publish()
        if len(rows) < batch:
            return totals


def _record_misses(misses: list[tuple[Conversation, str, dict]]) -> None:
    """Record the misses of one watcher batch: one query for those already recorded, one insert for the rest."""
    if not misses:
        return
    with db.session.no_autoflush:
        known = set(db.session.execute(
            sa.select(SlaOutcome.conversation_id, SlaOutcome.target, SlaOutcome.started_at)
            .where(SlaOutcome.conversation_id.in_({conversation.id for conversation, _, _ in misses}))).all())
    db.session.add_all([_outcome(conversation, target, entry, completed_at=None, met=False)
                        for conversation, target, entry in misses
                        if (conversation.id, target, _at(entry["started_at"])) not in known])


def _outcome(conversation: Conversation, target: str, entry: dict, *, completed_at: datetime | None,
             met: bool) -> SlaOutcome:
    """The outcome row of one run of a target's clock."""
    return SlaOutcome(conversation_id=conversation.id, queue_id=conversation.queue_id, priority=conversation.priority,
                      target=target, started_at=_at(entry["started_at"]), due_at=_at(entry["due_at"]),
                      completed_at=completed_at, met=met)


def _advance(conversation: Conversation, now: datetime) -> list[tuple[str, str, dict]]:
    """Move each clock as far as `now` takes it; returns the (target, new state, clock) changes (misses are
    recorded by the caller, a batch at a time)."""
    clock = {target: dict(entry) for target, entry in (conversation.sla_clock or {}).items()}
    moved = []
    for target, entry in clock.items():
        state = entry["state"]
        if state != "breached" and _at(entry["due_at"]) <= now:
            state = "breached"
        elif state == "ok" and _at(entry["at_risk_at"]) <= now:
            state = "at_risk"
        if state != entry["state"]:
            entry["state"] = state
            moved.append((target, state, entry))
    conversation.sla_clock = clock or None
    _refresh(conversation)
    return moved


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)
