"""What admins manage for SLAs and assignment: calendars (and iCalendar imports), policies, capacities."""

import sqlalchemy as sa

from sla import CalendarError, ICalError, parse_calendar, parse_ical
from sla.calendar import closure_json
from workspace.errors import NotFound, SwitchboardError, ValidationError
from workspace.extensions import db
from workspace.live import signals
from workspace.live.changes import announce
from workspace.models import TARGETS, Agent, BusinessCalendar, Priority, Queue, SlaPolicy, queue_members, utcnow
from workspace.serializers import serialize_sla_policy
from workspace.services import audit
from workspace.services.admin import (  # the same body, level and capacity checks as the other admin forms
    LEVELS,
    capacity_value,
    only_fields,
)

CALENDAR_FIELDS = ("name", "time_zone", "hours", "holidays")
POLICY_FIELDS = (*(f"{target}_minutes" for target in TARGETS), "business_hours", "calendar", "at_risk_fraction")
# A year: a longer target is surely a typo.
MAX_TARGET_MINUTES = 525_600


def calendar_state(calendar: BusinessCalendar) -> dict:
    """What the audit log records of a calendar."""
    return {"name": calendar.name, "time_zone": calendar.time_zone, "hours": calendar.hours,
            "holidays": len(calendar.holidays or [])}


def save_calendar(calendar: BusinessCalendar | None, data, admin: Agent | None) -> BusinessCalendar:
    """Create (calendar None) or change a calendar; the whole result is checked before anything is stored."""
    data = only_fields(data, CALENDAR_FIELDS)
    creating = calendar is None
    before = None if creating else calendar_state(calendar)
    merged = {"name": None if creating else calendar.name, "time_zone": None if creating else calendar.time_zone,
              "hours": None if creating else calendar.hours, "holidays": [] if creating else calendar.holidays,
              **data}
    name = merged["name"]
    if not isinstance(name, str) or not name.strip() or len(name) > 120 or "\x00" in name:
        raise ValidationError("name: a string of 1 to 120 characters", code="invalid_field")
    clash = db.session.scalar(sa.select(BusinessCalendar).where(BusinessCalendar.name == name.strip()))
    if clash is not None and clash is not calendar:
        raise SwitchboardError(f"name: a calendar named {name.strip()!r} exists", code="conflict", status=409)
    parsed = _checked(merged["time_zone"], merged["hours"], merged["holidays"])
    if creating:
        calendar = BusinessCalendar()
        db.session.add(calendar)
    calendar.name, calendar.time_zone, calendar.hours = name.strip(), merged["time_zone"], merged["hours"]
    calendar.holidays = [closure_json(closure) for closure in parsed.closures]
    calendar.updated_at = utcnow()
    db.session.flush()
    audit.record(admin, "calendar.create" if creating else "calendar.update", "calendar", calendar.id,
                 before=before, after=calendar_state(calendar))
    db.session.commit()
    if not creating:
        announce(signals.sla_resync_requested, *_policies_using(calendar))
    return calendar


def _checked(time_zone, hours, holidays):
    try:
        return parse_calendar(time_zone, hours, holidays)
    except CalendarError as error:
        raise ValidationError(str(error), code="invalid_calendar")


def import_ical(calendar: BusinessCalendar, text, admin: Agent | None, *, replace: bool = False) -> dict:
    """Add the events of an iCalendar file to a calendar's holidays (or replace them all).

    Events already present (same start and end) are not added twice.

    Returns:
        {"imported": new closures, "skipped": [why each event was left out], "calendar": the calendar}
    """
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("ical: the file's text (an iCalendar, BEGIN:VCALENDAR ...)", code="invalid_ical")
    parsed = _checked(calendar.time_zone, calendar.hours, [])
    try:
        result = parse_ical(text, parsed.tz)
    except ICalError as error:
        raise ValidationError(f"ical: {error}", code="invalid_ical")
    existing = [] if replace else list(calendar.holidays or [])
    seen = {(item["start"], item["end"]) for item in existing}
    added = [item for item in map(closure_json, result.closures) if (item["start"], item["end"]) not in seen]
    before = calendar_state(calendar)
    holidays = existing + list({(item["start"], item["end"]): item for item in added}.values())
    calendar.holidays = [closure_json(c) for c in _checked(calendar.time_zone, calendar.hours, holidays).closures]
    calendar.updated_at = utcnow()
    audit.record(admin, "calendar.import", "calendar", calendar.id, before=before,
                 after={**calendar_state(calendar), "imported": len(holidays) - len(existing), "replace": replace})
    db.session.commit()
    announce(signals.sla_resync_requested, *_policies_using(calendar))
    return {"imported": len(holidays) - len(existing), "skipped": result.skipped, "calendar": calendar}


def delete_calendar(calendar: BusinessCalendar, admin: Agent | None) -> None:
    """Delete a calendar no policy uses."""
    users = db.session.scalars(sa.select(Queue.slug).join(SlaPolicy, SlaPolicy.queue_id == Queue.id)
                               .where(SlaPolicy.calendar_id == calendar.id).distinct()).all()
    if users:
        raise SwitchboardError(f"calendar: still used by the SLA policies of {', '.join(sorted(users))}",
                               code="in_use", status=409)
    audit.record(admin, "calendar.delete", "calendar", calendar.id, before=calendar_state(calendar))
    db.session.delete(calendar)
    db.session.commit()


def parse_level(level) -> Priority:
    """A priority level from its label, or a 400 naming the labels."""
    if level not in LEVELS:
        raise ValidationError("priority: one of urgent, high, normal, low", code="invalid_field")
    return Priority.parse(level)


def save_policy(queue: Queue, level: str, data, admin: Agent | None) -> SlaPolicy:
    """Set (create or replace) a queue's SLA policy for one priority level."""
    priority = parse_level(level)
    data = only_fields(data, POLICY_FIELDS)
    minutes = {}
    for target in TARGETS:
        value = data.get(f"{target}_minutes")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 1 <= value <= MAX_TARGET_MINUTES):
            raise ValidationError(f"{target}_minutes: whole minutes from 1 to {MAX_TARGET_MINUTES}, or null",
                                  code="invalid_field")
        minutes[target] = value
    if not any(minutes.values()):
        raise ValidationError("a policy needs at least one of first_reply_minutes, next_reply_minutes, "
                              "resolution_minutes", code="invalid_field")
    business_hours = data.get("business_hours", False)
    if not isinstance(business_hours, bool):
        raise ValidationError("business_hours: true or false", code="invalid_field")
    calendar = None
    if data.get("calendar") is not None:
        calendar = db.session.scalar(sa.select(BusinessCalendar).where(BusinessCalendar.name == data["calendar"])) \
            if isinstance(data["calendar"], str) else None
        if calendar is None:
            raise NotFound(f"calendar: no calendar named {data['calendar']!r}")
    if business_hours and calendar is None:
        raise ValidationError("calendar: business hours need a calendar (or set business_hours false)",
                              code="invalid_field")
    fraction = data.get("at_risk_fraction")
    if fraction is not None and (isinstance(fraction, bool) or not isinstance(fraction, (int, float))
                                 or not 0 < fraction < 1):
        raise ValidationError("at_risk_fraction: a number between 0 and 1 (exclusive), or null", code="invalid_field")
    policy = db.session.scalar(sa.select(SlaPolicy).where(SlaPolicy.queue_id == queue.id,
                                                          SlaPolicy.priority == priority))
    before = serialize_sla_policy(policy) if policy else None
    if policy is None:
        policy = SlaPolicy(queue_id=queue.id, priority=priority)
        db.session.add(policy)
    for target, value in minutes.items():
        setattr(policy, f"{target}_minutes", value)
    policy.business_hours, policy.calendar, policy.at_risk_fraction = business_hours, calendar, fraction
    policy.updated_at = utcnow()
    db.session.flush()
    audit.record(admin, "sla_policy.set", "queue", queue.id, before=before, after=serialize_sla_policy(policy))
    db.session.commit()
    announce(signals.sla_resync_requested, (queue.id, int(priority)))
    return policy


def delete_policy(queue: Queue, level: str, admin: Agent | None) -> None:
    """Remove a queue's policy for a level (it falls back to the queue's plain first-reply target)."""
    priority = parse_level(level)
    policy = db.session.scalar(sa.select(SlaPolicy).where(SlaPolicy.queue_id == queue.id,
                                                          SlaPolicy.priority == priority))
    if policy is None:
        raise NotFound(f"no {level} policy in {queue.slug}")
    audit.record(admin, "sla_policy.delete", "queue", queue.id, before=serialize_sla_policy(policy))
    db.session.delete(policy)
    db.session.commit()
    announce(signals.sla_resync_requested, (queue.id, int(priority)))


def set_member_capacity(queue: Queue, agent: Agent, data, admin: Agent | None) -> int | None:
    """Set how many open conversations of this queue assignment may give the agent (null: no queue limit)."""
    data = only_fields(data, ("capacity",))
    if "capacity" not in data:
        raise ValidationError("capacity: is required (a number, or null for no queue limit)", code="invalid_field")
    capacity = capacity_value("capacity", data["capacity"], nullable=True)
    changed = db.session.execute(sa.update(queue_members).where(
        queue_members.c.queue_id == queue.id, queue_members.c.agent_id == agent.id).values(capacity=capacity)).rowcount
    if not changed:
        raise ValidationError(f"agent: {agent.name} does not work {queue.slug}", code="not_a_member")
    audit.record(admin, "queue.member_capacity", "queue", queue.id, after={"agent_id": agent.id, "capacity": capacity})
    db.session.commit()
    return capacity


def _policies_using(calendar: BusinessCalendar) -> list[tuple[int, int]]:
    """The (queue id, priority) of every business-hours policy counting in this calendar."""
    return [tuple(row) for row in db.session.execute(sa.select(SlaPolicy.queue_id, SlaPolicy.priority).where(
        SlaPolicy.calendar_id == calendar.id, SlaPolicy.business_hours.is_(True)))]
