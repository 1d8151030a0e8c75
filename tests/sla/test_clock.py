"""Business-time arithmetic with frozen instants: hours, holidays, closures, DST and zone edges."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import sla
from sla import CalendarError, add_business_time, business_minutes_between, is_open, parse_calendar

WEEKDAYS_9_17 = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
PARIS = ZoneInfo("Europe/Paris")


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def office(holidays=(), hours=None, tz="Europe/Paris"):
    return parse_calendar(tz, hours or WEEKDAYS_9_17, list(holidays))


def test_inside_the_window_the_clock_runs_as_usual():
    """An hour from Tuesday 10:00 on a 9-17 calendar is Tuesday 11:00."""
    assert add_business_time(paris(2026, 3, 3, 10), 60, office()) == paris(2026, 3, 3, 11)


def test_time_left_at_closing_carries_over_the_weekend():
    """An hour from Friday 16:30 is Monday 09:30: the weekend does not count."""
    assert add_business_time(paris(2026, 3, 6, 16, 30), 60, office()) == paris(2026, 3, 9, 9, 30)


def test_a_start_outside_hours_waits_for_opening():
    """Posted Saturday night, a 30-minute target is due Monday 09:30."""
    assert add_business_time(paris(2026, 3, 7, 23), 30, office()) == paris(2026, 3, 9, 9, 30)


def test_a_target_that_ends_exactly_at_closing_is_due_at_closing():
    """The last business minute is 17:00, not the next morning."""
    assert add_business_time(paris(2026, 3, 3, 16), 60, office()) == paris(2026, 3, 3, 17)


def test_split_windows_skip_the_lunch_break():
    """With 09-12 and 13-17, two hours from 11:00 end at 14:00."""
    hours = {"tue": [["13:00", "17:00"], ["09:00", "12:00"]]}
    assert add_business_time(paris(2026, 3, 3, 11), 120, office(hours=hours)) == paris(2026, 3, 3, 14)


def test_all_day_holidays_are_skipped():
    """A day-long target from Thursday 17:00 skips Friday's holiday and the weekend."""
    calendar = office([{"name": "Bridge day", "start": "2026-03-06"}])
    assert add_business_time(paris(2026, 3, 5, 17), 8 * 60, calendar) == paris(2026, 3, 9, 17)


def test_a_multi_day_holiday_range_excludes_its_end_date():
    """A holiday from Monday to Wednesday (end exclusive) reopens on Wednesday."""
    calendar = office([{"name": "Closed", "start": "2026-03-09", "end": "2026-03-11"}])
    assert add_business_time(paris(2026, 3, 6, 17), 60, calendar) == paris(2026, 3, 11, 10)


def test_timed_closures_cut_a_hole_in_the_day():
    """A 14:00-16:00 all-hands pushes a 3-hour target from 12:00 to 17:00."""
    calendar = office([{"name": "All hands", "start": "2026-03-03T14:00:00+01:00", "end": "2026-03-03T16:00:00+01:00"}])
    assert add_business_time(paris(2026, 3, 3, 12), 180, calendar) == paris(2026, 3, 3, 17)
    assert business_minutes_between(paris(2026, 3, 3, 12), paris(2026, 3, 3, 17), calendar) == 180


def test_calendar_time_ignores_the_calendar():
    """Without a calendar (calendar time) the clock always runs."""
    start = datetime(2026, 3, 7, 23, tzinfo=UTC)
    assert add_business_time(start, 90, None) == start + timedelta(minutes=90)
    assert business_minutes_between(start, start + timedelta(hours=3), None) == 180


def test_minutes_between_counts_only_open_time():
    """From Friday 16:00 to Monday 10:00 is two business hours."""
    assert business_minutes_between(paris(2026, 3, 6, 16), paris(2026, 3, 9, 10), office()) == 120


def test_minutes_between_is_negative_backwards_and_the_inverse_of_adding():
    """Counting back gives a negative number; adding what was counted gets back to the end."""
    start, end = paris(2026, 3, 4, 15, 10), paris(2026, 3, 10, 11, 45)
    minutes = business_minutes_between(start, end, office())
    assert minutes == 4 * 480 - (6 * 60 + 10) + 2 * 60 + 45
    assert business_minutes_between(end, start, office()) == -minutes
    assert add_business_time(start, minutes, office()) == end


def test_spring_forward_keeps_wall_clock_windows():
    """On the day Paris skips 02:00-03:00, 09:00-17:00 is still 8 hours, at 07:00 UTC not 08:00."""
    every_day = {day: [["09:00", "17:00"]] for day in ("sat", "sun", "mon")}
    calendar = office(hours=every_day)
    saturday_close = paris(2026, 3, 28, 17)
    # Two business hours from Saturday 16:00: one on Saturday, one Sunday (after the change) 09:00-10:00.
    due = add_business_time(paris(2026, 3, 28, 16), 120, calendar)
    assert due == paris(2026, 3, 29, 10)
    assert due.utcoffset() == timedelta(0) and due.hour == 8  # 10:00 CEST is 08:00 UTC
    assert business_minutes_between(saturday_close, paris(2026, 3, 30, 9), calendar) == 480


def test_a_window_inside_the_skipped_hour_is_shorter_in_real_time():
    """01:00-04:00 local on spring-forward day lasts two real hours."""
    calendar = office(hours={"sun": [["01:00", "04:00"]]})
    assert business_minutes_between(paris(2026, 3, 29, 0), paris(2026, 3, 29, 5), calendar) == 120


def test_a_window_through_the_repeated_hour_is_longer_in_real_time():
    """01:00-04:00 local on fall-back day (02:00-03:00 happens twice) lasts four real hours."""
    calendar = office(hours={"sun": [["01:00", "04:00"]]})
    assert business_minutes_between(paris(2026, 10, 25, 0), paris(2026, 10, 25, 5), calendar) == 240


def test_a_calendar_far_east_of_utc_counts_its_own_local_day():
    """Sunday 23:30 UTC is Monday 08:30 in Tokyo: 30 minutes from then is due at Tokyo's 09:30."""
    sunday_late_utc = datetime(2026, 3, 8, 23, 30, tzinfo=UTC)
    due = add_business_time(sunday_late_utc, 30, office(tz="Asia/Tokyo"))
    assert due == datetime(2026, 3, 9, 9, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert due == datetime(2026, 3, 9, 0, 30, tzinfo=UTC)


def test_a_calendar_west_of_utc_counts_its_own_local_day():
    """Saturday 02:00 UTC is still Friday 18:00 in Los Angeles: after hours, so due Monday."""
    friday_evening = datetime(2026, 3, 7, 2, 0, tzinfo=UTC)
    la = ZoneInfo("America/Los_Angeles")
    due = add_business_time(friday_evening, 60, office(tz="America/Los_Angeles"))
    assert due == datetime(2026, 3, 9, 10, 0, tzinfo=la)  # Monday 10:00 PDT (the US changed on 8 March)


def test_a_window_to_midnight_runs_to_the_end_of_the_day():
    """24:00 closes a window at midnight, so 23:30 plus an hour on a two-day calendar is 00:30 next day."""
    calendar = office(hours={"mon": [["20:00", "24:00"]], "tue": [["00:00", "02:00"]]})
    assert add_business_time(paris(2026, 3, 9, 23, 30), 60, calendar) == paris(2026, 3, 10, 0, 30)


def test_a_zero_target_is_due_at_once():
    """Zero minutes is due at the start, open or not."""
    start = paris(2026, 3, 7, 23)
    assert add_business_time(start, 0, office()) == start


def test_a_calendar_closed_for_years_is_refused_rather_than_searched_forever():
    """Holidays covering more than three years leave no due time: an error, not a hang."""
    calendar = office([{"name": "Forever", "start": "2026-01-01", "end": "2030-01-01"}])
    with pytest.raises(CalendarError, match="no open time"):
        add_business_time(paris(2026, 3, 3, 10), 60, calendar)


@pytest.mark.parametrize(("time_zone", "hours", "holidays", "message"), [
    ("Mars/Olympus", WEEKDAYS_9_17, [], "unknown time zone"),
    ("", WEEKDAYS_9_17, [], "time_zone"),
    ("UTC", {}, [], "at least one weekday"),
    ("UTC", {"funday": [["09:00", "17:00"]]}, [], "not a weekday"),
    ("UTC", {"mon": [["17:00", "09:00"]]}, [], "must end after it starts"),
    ("UTC", {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}, [], "overlap"),
    ("UTC", {"mon": [["9am", "17:00"]]}, [], "not a time of day"),
    ("UTC", {"mon": [["24:00", "24:00"]]}, [], "24:00 can only end"),
    ("UTC", {"mon": "09:00-17:00"}, [], "hours.mon"),
    ("UTC", WEEKDAYS_9_17, [{"start": "2026-02-30"}], "not a date"),
    ("UTC", WEEKDAYS_9_17, [{"start": "2026-03-01T10:00:00"}], "offset"),
    ("UTC", WEEKDAYS_9_17, [{"start": "2026-03-02", "end": "2026-03-01"}], "must end after"),
    ("UTC", WEEKDAYS_9_17, [{"start": "2026-03-01T10:00:00+00:00"}], "needs an end"),
    ("UTC", WEEKDAYS_9_17, "2026-12-25", "holidays"),
])
def test_bad_calendars_are_refused_naming_the_field(time_zone, hours, holidays, message):
    """Each malformed part of a calendar is refused with a message saying which."""
    with pytest.raises(CalendarError, match=message):
        parse_calendar(time_zone, hours, holidays)


def test_the_sla_library_does_not_import_flask():
    """sla is a library: importing it pulls in neither Flask nor the app."""
    code = ("import sys, sla, sla.calendar, sla.clock, sla.ical\n"
            "assert not [m for m in sys.modules if m.split('.')[0] in ('flask', 'workspace', 'sqlalchemy')]\n")
    root = Path(sla.__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_is_open_inside_a_window_and_not_outside_nor_on_a_holiday():
    """is_open: inside a weekday window yes (its start included, its end not); at night, on a closed day or a
    holiday no; without a calendar always."""
    calendar = parse_calendar("UTC", {"mon": [["09:00", "17:00"]]}, [{"name": "Closed", "start": "2026-12-14"}])
    monday = datetime(2026, 12, 7, tzinfo=UTC)
    assert is_open(monday.replace(hour=9), calendar) and is_open(monday.replace(hour=16, minute=59), calendar)
    assert not is_open(monday.replace(hour=17), calendar) and not is_open(monday.replace(hour=3), calendar)
    assert not is_open(monday.replace(day=8, hour=10), calendar)  # Tuesday: no window
    assert not is_open(monday.replace(day=14, hour=10), calendar)  # a Monday holiday
    assert is_open(monday.replace(hour=3), None)
