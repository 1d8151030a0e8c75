"""Reading holiday feeds (iCalendar): all-day and timed events, zones, folding, and bad files."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from sla import ICalError, add_business_time, parse_calendar, parse_ical
from sla.calendar import closure_json

PARIS = ZoneInfo("Europe/Paris")

FEED = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Example//Holidays//EN\r
BEGIN:VEVENT\r
UID:xmas@example.com\r
DTSTART;VALUE=DATE:20261225\r
DTEND;VALUE=DATE:20261226\r
SUMMARY:Christmas Day\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:break@example.com\r
DTSTART;VALUE=DATE:20261228\r
DTEND;VALUE=DATE:20261231\r
SUMMARY:Year-end\\, closed\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:allhands@example.com\r
DTSTART;TZID=Europe/Paris:20261222T140000\r
DTEND;TZID=Europe/Paris:20261222T160000\r
SUMMARY:All hands (the whole team is in one room and nobody answers the\r
  queue)\r
BEGIN:VALARM\r
ACTION:DISPLAY\r
DTSTART:19700101T000000Z\r
END:VALARM\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:deploy@example.com\r
DTSTART:20261223T130000Z\r
DURATION:PT30M\r
SUMMARY:Maintenance\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:one-day@example.com\r
DTSTART;VALUE=DATE:20270101\r
SUMMARY:New Year\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:cancelled@example.com\r
STATUS:CANCELLED\r
DTSTART;VALUE=DATE:20261224\r
SUMMARY:Was going to close\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:weekly@example.com\r
RRULE:FREQ=WEEKLY\r
DTSTART:20261201T090000\r
DTEND:20261201T100000\r
SUMMARY:Standup\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_all_day_timed_and_duration_events_become_closures():
    """All-day ranges keep their exclusive end; timed ones are instants in their TZID or UTC."""
    result = parse_ical(FEED, PARIS)
    closures = {c.name: c for c in result.closures}
    assert sorted(closures) == ["All hands (the whole team is in one room and nobody answers the queue)",
                                "Christmas Day", "Maintenance", "New Year", "Year-end, closed"]
    assert (closures["Christmas Day"].start, closures["Christmas Day"].end) == (date(2026, 12, 25), date(2026, 12, 26))
    assert closures["New Year"].end == date(2027, 1, 2)  # a date alone lasts one day
    hands = closures["All hands (the whole team is in one room and nobody answers the queue)"]
    assert hands.start == datetime(2026, 12, 22, 13, tzinfo=UTC)
    assert closures["Maintenance"].end == datetime(2026, 12, 23, 13, 30, tzinfo=UTC)


def test_cancelled_events_are_ignored_and_recurring_ones_reported():
    """A cancelled event closes nothing; an RRULE is named as skipped rather than guessed."""
    result = parse_ical(FEED, PARIS)
    assert "Was going to close" not in {c.name for c in result.closures}
    assert len(result.skipped) == 1 and "Standup" in result.skipped[0] and "RRULE" in result.skipped[0]


def test_floating_times_are_read_in_the_calendars_zone():
    """A date-time with neither Z nor TZID is local to the calendar importing it."""
    feed = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20260701T100000\nDTEND:20260701T120000\nEND:VEVENT\nEND:VCALENDAR\n"
    (closure,) = parse_ical(feed, PARIS).closures
    assert closure.start == datetime(2026, 7, 1, 8, tzinfo=UTC)


def test_imported_closures_round_trip_through_the_stored_form_and_close_the_calendar():
    """Stored as JSON and read back, imported holidays push a due time past them."""
    closures = [closure_json(c) for c in parse_ical(FEED, PARIS).closures]
    calendar = parse_calendar("Europe/Paris", {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
                              closures)
    # Thursday 24 Dec 16:00 + 2 business hours: 1 h on the 24th, the 25th is Christmas, weekend, then
    # 28-30 closed, so Thursday 31 Dec 10:00.
    due = add_business_time(datetime(2026, 12, 24, 16, tzinfo=PARIS), 120, calendar)
    assert due == datetime(2026, 12, 31, 10, tzinfo=PARIS)


@pytest.mark.parametrize(("text", "message"), [
    ("", "BEGIN:VCALENDAR"),
    ("hello world", "BEGIN:VCALENDAR"),
    ("BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\nEND:VCALENDAR", "without DTSTART"),
    ("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20260230T100000Z\nEND:VEVENT\nEND:VCALENDAR", "not a real date"),
    ("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:tomorrow\nEND:VEVENT\nEND:VCALENDAR", "not a date-time"),
    ("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;TZID=Nowhere/Else:20260101T100000\nEND:VEVENT\nEND:VCALENDAR",
     "unknown TZID"),
    ("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20260101T100000Z\nDURATION:soon\nEND:VEVENT\nEND:VCALENDAR",
     "DURATION"),
    ("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260101\nDTEND:20260102T100000Z\nEND:VEVENT\nEND:VCALENDAR",
     "both be dates"),
    ("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260101\nEND:VCALENDAR", "not closed"),
    ("BEGIN:VCALENDAR\nBEGIN:VEVENT\nno colon here\nEND:VEVENT\nEND:VCALENDAR", "line 3"),
])
def test_bad_files_are_refused_saying_where(text, message):
    """Malformed feeds raise ICalError naming the event or line."""
    with pytest.raises(ICalError, match=message):
        parse_ical(text, PARIS)
