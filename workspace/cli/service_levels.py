"""Flask CLI commands for calendars and SLA policies (the same services as the API, so the same checks)."""

from datetime import date, timedelta

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from sla.calendar import DAYS
from workspace.errors import SwitchboardError
from workspace.extensions import db
from workspace.models import BusinessCalendar, Queue, SlaPolicy
from workspace.serializers import serialize_sla_policy
from workspace.services.admin import LEVELS, find
from workspace.services.service_levels import admin
from workspace.services.service_levels.clocks import check

calendar_cli = AppGroup("calendar", help="Manage business-hours calendars.")
sla_cli = AppGroup("sla", help="Manage SLA policies; run the SLA watcher.")
HOURS_HELP = 'Weekly hours, e.g. "mon-fri=09:00-12:00,13:00-17:00;sat=10:00-14:00".'


def _service(call, *args, **kwargs):
    """Run a service call, turning its refusals into a clean CLI error."""
    try:
        return call(*args, **kwargs)
    except SwitchboardError as error:
        db.session.rollback()
        raise click.ClickException(error.message)


def parse_hours(text: str) -> dict:
    """Read "mon-fri=09:00-17:00;sat=10:00-14:00" into the calendar's stored form."""
    hours: dict[str, list] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        days, _, windows = part.partition("=")
        first, _, last = days.strip().lower().partition("-")
        if first not in DAYS or (last and last not in DAYS) or not windows:
            raise click.ClickException(f"--hours: expected day[-day]=HH:MM-HH:MM[,...], got {part!r}")
        span = DAYS[DAYS.index(first):DAYS.index(last or first) + 1]
        pairs = [window.strip().split("-", 1) for window in windows.split(",")]
        if not span or any(len(pair) != 2 for pair in pairs):
            raise click.ClickException(f"--hours: expected day[-day]=HH:MM-HH:MM[,...], got {part!r}")
        for day in span:
            hours.setdefault(day, []).extend([start, end] for start, end in pairs)
    return hours


@calendar_cli.command("create")
@click.argument("name")
@click.option("--tz", "time_zone", required=True, help="IANA time zone, e.g. Europe/Paris.")
@click.option("--hours", required=True, help=HOURS_HELP)
def create_calendar(name: str, time_zone: str, hours: str):
    """Create a business-hours calendar."""
    _service(admin.save_calendar, None, {"name": name, "time_zone": time_zone, "hours": parse_hours(hours)}, None)
    click.echo(f"created calendar {name}")


@calendar_cli.command("update")
@click.argument("name")
@click.option("--tz", "time_zone", help="IANA time zone, e.g. Europe/Paris.")
@click.option("--hours", help=HOURS_HELP)
def update_calendar(name: str, time_zone: str | None, hours: str | None):
    """Change a calendar's time zone or weekly hours."""
    changes = {"time_zone": time_zone, "hours": parse_hours(hours) if hours else None}
    _service(admin.save_calendar, _calendar(name), {k: v for k, v in changes.items() if v is not None}, None)
    click.echo(f"updated calendar {name}")


@calendar_cli.command("holiday")
@click.argument("name")
@click.argument("day")
@click.option("--until", help="Last day closed (inclusive), for a range.")
@click.option("--label", default="", help="What the holiday is.")
def add_holiday(name: str, day: str, until: str | None, label: str):
    """Close a calendar on a day (YYYY-MM-DD), or through --until."""
    calendar = _calendar(name)
    try:
        end = (date.fromisoformat(until or day) + timedelta(days=1)).isoformat()
    except ValueError:
        raise click.ClickException(f"--until: {until or day!r} is not a date YYYY-MM-DD")
    holidays = [*(calendar.holidays or []), {"name": label, "start": day, "end": end}]
    _service(admin.save_calendar, calendar, {"holidays": holidays}, None)
    click.echo(f"{name}: closed from {day} until {end} (exclusive)")


@calendar_cli.command("import")
@click.argument("name")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--replace", is_flag=True, help="Replace the calendar's holidays instead of adding to them.")
def import_holidays(name: str, file, replace: bool):
    """Add the events of an iCalendar (.ics) file as holidays."""
    result = _service(admin.import_ical, _calendar(name), file.read(), None, replace=replace)
    click.echo(f"{name}: imported {result['imported']} closures")
    for note in result["skipped"]:
        click.echo(f"skipped: {note}")


@calendar_cli.command("list")
def list_calendars():
    """List calendars with their time zone, hours and number of holidays."""
    for calendar in db.session.scalars(sa.select(BusinessCalendar).order_by(BusinessCalendar.name)):
        hours = "; ".join(f"{day} " + ",".join(f"{a}-{b}" for a, b in calendar.hours[day])
                          for day in DAYS if calendar.hours.get(day))
        click.echo(f"{calendar.name:24} {calendar.time_zone:20} {hours}  ({len(calendar.holidays)} holidays)")


@calendar_cli.command("delete")
@click.argument("name")
def delete_calendar(name: str):
    """Delete a calendar no SLA policy uses."""
    _service(admin.delete_calendar, _calendar(name), None)
    click.echo(f"deleted calendar {name}")


def _calendar(name: str) -> BusinessCalendar:
    calendar = db.session.scalar(sa.select(BusinessCalendar).where(BusinessCalendar.name == name))
    if calendar is None:
        raise click.ClickException(f"no calendar named {name!r}")
    return calendar


@sla_cli.command("set")
@click.argument("queue")
@click.argument("level", type=click.Choice(LEVELS))
@click.option("--first-reply", type=int, help="Minutes to the first reply.")
@click.option("--next-reply", type=int, help="Minutes to each next reply after a customer's message.")
@click.option("--resolution", type=int, help="Minutes to resolution.")
@click.option("--calendar", help="Count business time in this calendar (default: calendar time).")
@click.option("--at-risk", type=float, help="Share of a target after which it is at risk (default 0.75).")
def set_policy(queue: str, level: str, first_reply, next_reply, resolution, calendar, at_risk):
    """Set a queue's SLA policy for one priority level."""
    body = {"first_reply_minutes": first_reply, "next_reply_minutes": next_reply, "resolution_minutes": resolution,
            "business_hours": calendar is not None, "calendar": calendar, "at_risk_fraction": at_risk}
    policy = _service(admin.save_policy, _service(find, Queue, slug=queue), level, body, None)
    click.echo(_describe(serialize_sla_policy(policy)))


@sla_cli.command("unset")
@click.argument("queue")
@click.argument("level", type=click.Choice(LEVELS))
def unset_policy(queue: str, level: str):
    """Remove a queue's policy for a level (its plain first-reply target applies again)."""
    _service(admin.delete_policy, _service(find, Queue, slug=queue), level, None)
    click.echo(f"{queue} {level}: policy removed")


@sla_cli.command("show")
@click.argument("queue")
def show_policies(queue: str):
    """Show a queue's assignment strategy and SLA policies."""
    row = _service(find, Queue, slug=queue)
    click.echo(f"{row.slug}: assignment {row.assignment}")
    for policy in db.session.scalars(sa.select(SlaPolicy).where(SlaPolicy.queue_id == row.id)
                                     .order_by(SlaPolicy.priority)):
        click.echo(_describe(serialize_sla_policy(policy)))


@sla_cli.command("check")
def check_now():
    """Run the SLA watcher once (the scheduler runs it periodically)."""
    totals = check()
    click.echo(f"at risk {totals['at_risk']}, breached {totals['breached']}")


def _describe(policy: dict) -> str:
    targets = ", ".join(f"{name.removesuffix('_minutes').replace('_', ' ')} {value} min"
                        for name, value in policy.items() if name.endswith("_minutes") and value)
    counted = f"business hours ({policy['calendar']})" if policy["business_hours"] else "calendar time"
    return f"{policy['priority']:7} {targets}; {counted}; at risk at {policy['at_risk_fraction'] or 'default'}"
