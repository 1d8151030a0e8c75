"""SLA time arithmetic: business-hours calendars, holidays and iCalendar import.

A library like routing/: no Flask, no database. Plain data in (aware
datetimes, a `Calendar`), plain data out. Every function takes the moment it
reasons about explicitly, so tests freeze time by passing it.
"""

from .calendar import Calendar, CalendarError, Closure, parse_calendar
from .clock import add_business_time, business_minutes_between, is_open, open_intervals
from .ical import ICalError, ICalResult, parse_ical

__all__ = [
    "Calendar", "CalendarError", "Closure", "ICalError", "ICalResult", "add_business_time", "business_minutes_between",
    "is_open", "open_intervals", "parse_calendar", "parse_ical",
]
