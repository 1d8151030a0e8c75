"""On-call: who takes a queue's urgent conversations now, by its rota, in the time zone of its calendar.

During the queue's business hours (its SLA calendar) an urgent conversation goes to every agent of the queue;
outside them, to the first person on call only, and to the next one when it was not opened in time. A queue
without a calendar counts as out of hours whenever someone is on call for it.
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from sla import open_intervals, parse_calendar
from workspace.errors import NotFound, ValidationError
from workspace.extensions import db
from workspace.models import Agent, BusinessCalendar, OnCallShift, Queue, SlaPolicy, queue_members
from workspace.serializers import serialize_on_call_shift
from workspace.services import audit

CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_SHIFTS = 200


def queue_calendar(queue_id: int):
    """The parsed business calendar of a queue (its urgent level's SLA policy first), or None."""
    row = db.session.scalar(
        sa.select(BusinessCalendar).join(SlaPolicy, SlaPolicy.calendar_id == BusinessCalendar.id)
        .where(SlaPolicy.queue_id == queue_id).order_by(SlaPolicy.priority).limit(1))
    return parse_calendar(row.time_zone, row.hours, row.holidays) if row is not None else None


def in_hours(calendar, now: datetime) -> bool:
    """Whether the calendar is open at `now`."""
    for start, end in open_intervals(calendar, now, now + timedelta(seconds=1)):
        if start <= now < end:
            return True
    return False


def on_call_now(queue_id: int, now: datetime, calendar=None) -> list[int]:
    """The agents on call for a queue at `now`, first to be pushed first (a day's overrides replace the
    weekly rota that day)."""
    tz = calendar.tz if calendar is not None else ZoneInfo("UTC")
    local = now.astimezone(tz)
    today, yesterday = local.date(), local.date() - timedelta(days=1)
    shifts = db.session.scalars(sa.select(OnCallShift).where(OnCallShift.queue_id == queue_id)
                                .order_by(OnCallShift.position, OnCallShift.id)).all()
    active = [s for s in shifts if _covers(s, local.time(), today, yesterday, _overridden(shifts))]
    members = set(db.session.scalars(sa.select(queue_members.c.agent_id).where(queue_members.c.queue_id == queue_id)))
    seen, ordered = set(), []
    for shift in active:
        # Someone removed from the queue (or switched off) is no longer on call for it.
        if shift.agent_id in members and shift.agent_id not in seen and shift.agent.active:
            seen.add(shift.agent_id)
            ordered.append(shift.agent_id)
    return ordered


def _overridden(shifts: list[OnCallShift]) -> set[date]:
    return {s.on_date for s in shifts if s.on_date is not None}


def _covers(shift: OnCallShift, clock: time, today: date, yesterday: date, overridden: set[date]) -> bool:
    """Whether a shift is running at this local time (a shift past midnight runs into the next morning)."""
    start, end = time.fromisoformat(shift.start), time.fromisoformat(shift.end)

    def on(day: date) -> bool:
        if shift.on_date is not None:
            return shift.on_date == day
        return day not in overridden and shift.weekday == day.weekday()

    if start < end:
        return on(today) and start <= clock < end
    return (on(today) and clock >= start) or (on(yesterday) and clock < end)


def urgent_recipients(queue_id: int, now: datetime) -> tuple[list[int], bool]:
    """Who an urgent conversation arriving in this queue now goes to.

    Returns:
        The agent ids, and whether they are the on-call rota (then only the first is pushed at first).
    """
    calendar = queue_calendar(queue_id)
    if calendar is None or not in_hours(calendar, now):
        on_call = on_call_now(queue_id, now, calendar)
        if on_call:
            return on_call, True
    members = db.session.scalars(
        sa.select(Agent.id).join(queue_members, queue_members.c.agent_id == Agent.id)
        .where(queue_members.c.queue_id == queue_id, Agent.active.is_(True)).order_by(Agent.id)).all()
    return list(members), False


def list_rota(queue: Queue) -> list[OnCallShift]:
    """A queue's rota: weekly shifts, then the days' overrides, in order."""
    return db.session.scalars(sa.select(OnCallShift).where(OnCallShift.queue_id == queue.id).order_by(
        OnCallShift.on_date.is_not(None), OnCallShift.on_date, OnCallShift.weekday, OnCallShift.position,
        OnCallShift.id)).all()


def replace_rota(queue: Queue, shifts, actor: Agent) -> list[OnCallShift]:
    """Replace a queue's whole rota with these shifts (each: agent_id, weekday or date, start, end, position);
    every agent must work the queue."""
    if not isinstance(shifts, list) or len(shifts) > MAX_SHIFTS:
        raise ValidationError(f"shifts: a list of at most {MAX_SHIFTS} shifts", code="invalid_field")
    members = set(db.session.scalars(sa.select(queue_members.c.agent_id).where(queue_members.c.queue_id == queue.id)))
    rows = [_shift(queue, index, item, members) for index, item in enumerate(shifts)]
    before = [serialize_on_call_shift(s) for s in list_rota(queue)]
    db.session.execute(sa.delete(OnCallShift).where(OnCallShift.queue_id == queue.id))
    db.session.add_all(rows)
    db.session.flush()
    audit.record(actor, "queue.on_call", "queue", queue.id, before={"shifts": before},
                 after={"shifts": [serialize_on_call_shift(s) for s in rows]})
    db.session.commit()
    return list_rota(queue)


def _shift(queue: Queue, index: int, item, members: set[int]) -> OnCallShift:
    where = f"shifts[{index}]"
    if not isinstance(item, dict):
        raise ValidationError(f"{where}: must be an object", code="invalid_field")
    agent_id = item.get("agent_id")
    if agent_id not in members:
        raise ValidationError(f"{where}.agent_id: not an agent of this queue", code="not_a_member")
    for key in ("start", "end"):
        if not isinstance(item.get(key), str) or not CLOCK.match(item[key]):
            raise ValidationError(f"{where}.{key}: a time of day as HH:MM", code="invalid_field")
    if item["start"] == item["end"]:
        raise ValidationError(f"{where}: start and end must differ", code="invalid_field")
    weekday, on_date = item.get("weekday"), item.get("date")
    if (weekday is None) == (on_date is None):
        raise ValidationError(f"{where}: either weekday (0 = Monday) or date", code="invalid_field")
    if weekday is not None and (not isinstance(weekday, int) or isinstance(weekday, bool) or not 0 <= weekday <= 6):
        raise ValidationError(f"{where}.weekday: 0 (Monday) to 6 (Sunday)", code="invalid_field")
    if on_date is not None:
        try:
            on_date = date.fromisoformat(on_date)
        except (TypeError, ValueError):
            raise ValidationError(f"{where}.date: an ISO date", code="invalid_field") from None
    position = item.get("position", 0)
    if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position <= 100:
        raise ValidationError(f"{where}.position: 0 to 100", code="invalid_field")
    return OnCallShift(queue_id=queue.id, agent_id=agent_id, weekday=weekday, on_date=on_date,
                       start=item["start"], end=item["end"], position=position)


def who_is_on_call(now: datetime | None = None) -> list[dict]:
    """Every queue with someone on call now (for the dashboard): queue, and the agents in order."""
    now = now or datetime.now(UTC)
    queue_ids = db.session.scalars(sa.select(OnCallShift.queue_id).distinct()).all()
    result = []
    for queue in db.session.scalars(sa.select(Queue).where(Queue.id.in_(queue_ids)).order_by(Queue.name)):
        calendar = queue_calendar(queue.id)
        agents = on_call_now(queue.id, now, calendar)
        if agents:
            names = dict(db.session.execute(sa.select(Agent.id, Agent.name).where(Agent.id.in_(agents))).all())
            result.append({"queue": queue.slug, "in_hours": calendar is not None and in_hours(calendar, now),
                           "agents": [{"id": a, "name": names[a]} for a in agents]})
    return result


def find_queue(slug: str) -> Queue:
    """The queue with this slug, or 404."""
    queue = db.session.scalar(sa.select(Queue).where(Queue.slug == slug))
    if queue is None:
        raise NotFound(f"no queue named {slug!r}")
    return queue
