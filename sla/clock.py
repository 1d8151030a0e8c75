"""Business time: adding minutes of working time, and counting it between two instants.

All instants are aware datetimes; results are in UTC. A calendar of None
means the clock runs around the clock (calendar time).
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from .calendar import Calendar, CalendarError

# A calendar with no open time for this many days in a row (say, every day a
# holiday) cannot give a due time; searching further would only hang a worker.
MAX_CLOSED_DAYS = 3 * 366
ONE_DAY = timedelta(days=1)


def open_intervals(calendar: Calendar, since: datetime, until: datetime | None = None
                   ) -> Iterator[tuple[datetime, datetime]]:
    """Yield the calendar's open periods as UTC (start, end) pairs, in order, that end after `since`.

    Windows are local wall-clock times, converted day by day with the time
    zone's rules, so a 09:00-17:00 window stays 09:00-17:00 across DST
    changes (and a window on the day the clocks go back or forward is that
    much longer or shorter in real time).

    Args:
        calendar: the business-hours calendar.
        since: periods ending at or before this are skipped.
        until: stop once periods start at or after this (None: never stop).

    Raises:
        CalendarError: when no open time exists within MAX_CLOSED_DAYS.
    """
    since = since.astimezone(UTC)
    # Start the day before: a window of the previous local day may still be open.
    day = since.astimezone(calendar.tz).date() - ONE_DAY
    closed_run = 0
    while True:
        found = False
        if day not in calendar.closed_dates:
            for start, end in calendar.windows[day.weekday()]:
                opened = _instant(calendar, day, start)
                closed = _instant(calendar, day + ONE_DAY, None) if end is None else _instant(calendar, day, end)
                if until is not None and opened >= until:
                    return
                for piece in _minus_closures(opened, closed, calendar.timed_closures):
                    found = True
                    if piece[1] > since:
                        yield piece
        closed_run = 0 if found else closed_run + 1
        if closed_run > MAX_CLOSED_DAYS:
            raise CalendarError(f"the calendar has no open time for {MAX_CLOSED_DAYS} days after {day}")
        if until is not None and _instant(calendar, day + ONE_DAY, None) >= until:
            return
        day += ONE_DAY


def _instant(calendar: Calendar, day: date, clock) -> datetime:
    """A local date and wall-clock time (None: midnight) as a UTC instant.

    A wall-clock time the clocks skip (02:30 when they jump from 02:00 to
    03:00) maps to the real instant it would be without the jump, i.e. 03:30;
    one that happens twice maps to its first occurrence.
    """
    local = datetime.combine(day, clock or datetime.min.time(), tzinfo=calendar.tz)
    return local.astimezone(UTC)


def _minus_closures(start: datetime, end: datetime, closures) -> list[tuple[datetime, datetime]]:
    pieces = [(start, end)]
    for closed_from, closed_to in closures:
        if closed_from >= end:
            break
        if closed_to <= start:
            continue
        remaining = []
        for a, b in pieces:
            if closed_to <= a or closed_from >= b:
                remaining.append((a, b))
                continue
            if a < closed_from:
                remaining.append((a, closed_from))
            if closed_to < b:
                remaining.append((closed_to, b))
        pieces = remaining
    return [(a, b) for a, b in pieces if b > a]


def add_business_time(start: datetime, minutes: float, calendar: Calendar | None) -> datetime:
    """Return the instant `minutes` of open time after `start`.

    Args:
        start: where the clock starts (aware).
        minutes: the target; zero or less returns `start`.
        calendar: business hours, or None for calendar time (the clock always runs).

    Returns:
        The due instant, in UTC. It falls inside (or at the end of) an open
        period: 60 business minutes from Friday 16:30 on a 09:00-17:00
        weekday calendar is Monday 09:30.
    """
    start = start.astimezone(UTC)
    if minutes <= 0:
        return start
    remaining = timedelta(minutes=minutes)
    if calendar is None:
        return start + remaining
    for opened, closed in open_intervals(calendar, start):
        opened = max(opened, start)
        span = closed - opened
        if remaining <= span:
            return opened + remaining
        remaining -= span
    raise AssertionError("open_intervals never ends without raising")  # pragma: no cover


def business_minutes_between(a: datetime, b: datetime, calendar: Calendar | None) -> float:
    """Return the open minutes from `a` to `b` (negative when `b` is before `a`).

    Args:
        a: the earlier instant (aware).
        b: the later instant (aware).
        calendar: business hours, or None for calendar time.

    Returns:
        Minutes, as a float (seconds count).
    """
    a, b = a.astimezone(UTC), b.astimezone(UTC)
    if b < a:
        return -business_minutes_between(b, a, calendar)
    if calendar is None:
        return (b - a).total_seconds() / 60
    total = timedelta()
    for opened, closed in open_intervals(calendar, a, until=b):
        overlap = min(closed, b) - max(opened, a)
        if overlap > timedelta():
            total += overlap
    return total.total_seconds() / 60


def is_open(moment: datetime, calendar: Calendar | None) -> bool:
    """Return whether the team works at `moment` (always, without a calendar).

    Args:
        moment: the instant asked about (aware).
        calendar: business hours, or None for calendar time.

    Returns:
        True inside an open period (its start included, its end not).
    """
    if calendar is None:
        return True
    moment = moment.astimezone(UTC)
    try:
        opened, _ = next(open_intervals(calendar, moment, until=moment + timedelta(seconds=1)))
    except (StopIteration, CalendarError):
        return False
    return opened <= moment
