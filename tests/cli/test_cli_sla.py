"""The calendar and sla commands: the same checks as the API, clean errors, and the watcher on demand."""

import sqlalchemy as sa

from tests.sla.test_ical import FEED
from workspace.extensions import db
from workspace.models import BusinessCalendar, Queue, SlaPolicy


def test_calendar_hours_holidays_and_an_ical_import(app, runner, tmp_path):
    """A calendar from a compact hours string, a holiday range, then an .ics file's events."""
    created = runner.invoke(args=["calendar", "create", "Paris office", "--tz", "Europe/Paris",
                                  "--hours", "mon-fri=09:00-12:30,13:30-17:00;sat=10:00-14:00"])
    assert created.exit_code == 0, created.output
    holiday = runner.invoke(args=["calendar", "holiday", "Paris office", "2026-08-10", "--until", "2026-08-14",
                                  "--label", "Summer"])
    assert holiday.exit_code == 0 and "until 2026-08-15" in holiday.output
    feed = tmp_path / "holidays.ics"
    feed.write_text(FEED)
    imported = runner.invoke(args=["calendar", "import", "Paris office", str(feed)])
    assert "imported 5 closures" in imported.output and "skipped: Standup" in imported.output
    with app.app_context():
        calendar = db.session.scalar(sa.select(BusinessCalendar))
        assert calendar.hours["wed"] == [["09:00", "12:30"], ["13:30", "17:00"]] and "sun" not in calendar.hours
        assert calendar.hours["sat"] == [["10:00", "14:00"]] and len(calendar.holidays) == 6
    assert "Paris office" in runner.invoke(args=["calendar", "list"]).output


def test_bad_calendar_input_fails_cleanly(runner, tmp_path):
    """Bad hours, zones and files exit non-zero with the reason, not a traceback."""
    bad_hours = runner.invoke(args=["calendar", "create", "X", "--tz", "UTC", "--hours", "someday=09:00-17:00"])
    assert bad_hours.exit_code != 0 and "--hours" in bad_hours.output
    bad_zone = runner.invoke(args=["calendar", "create", "X", "--tz", "Moon/Base", "--hours", "mon=09:00-17:00"])
    assert bad_zone.exit_code != 0 and "unknown time zone" in bad_zone.output
    runner.invoke(args=["calendar", "create", "X", "--tz", "UTC", "--hours", "mon=09:00-17:00"])
    garbage = tmp_path / "garbage.ics"
    garbage.write_text("hello")
    bad_file = runner.invoke(args=["calendar", "import", "X", str(garbage)])
    assert bad_file.exit_code != 0 and "not an iCalendar" in bad_file.output


def test_sla_policies_and_assignment_from_the_cli(app, runner):
    """Set a business-hours policy, show it, switch the queue to round robin, run the watcher, unset it."""
    with app.app_context():
        db.session.add(Queue(slug="billing", name="Billing"))
        db.session.commit()
    runner.invoke(args=["calendar", "create", "Office", "--tz", "UTC", "--hours", "mon-fri=09:00-17:00"])
    result = runner.invoke(args=["sla", "set", "billing", "urgent", "--first-reply", "30", "--resolution", "480",
                                 "--calendar", "Office", "--at-risk", "0.5"])
    assert result.exit_code == 0, result.output
    assert "first reply 30 min, resolution 480 min; business hours (Office)" in result.output
    assert runner.invoke(args=["queue", "update", "billing", "--assignment", "round_robin"]).exit_code == 0
    shown = runner.invoke(args=["sla", "show", "billing"]).output
    assert "assignment round_robin" in shown and "urgent" in shown
    assert runner.invoke(args=["sla", "check"]).output.strip() == "at risk 0, breached 0"
    refused = runner.invoke(args=["sla", "set", "billing", "low", "--calendar", "Nowhere", "--first-reply", "5"])
    assert refused.exit_code != 0 and "no calendar named" in refused.output
    assert runner.invoke(args=["calendar", "delete", "Office"]).exit_code != 0  # still used
    assert runner.invoke(args=["sla", "unset", "billing", "urgent"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SlaPolicy)) == 0
