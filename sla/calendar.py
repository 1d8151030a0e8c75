"""Business-hours calendars: weekly windows in a time zone, minus holidays and closures."""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# At most this many windows per weekday, and holidays per calendar: enough for
# split shifts and a decade of public holidays, small enough to validate fast.
MAX_WINDOWS_PER_DAY = 8
MAX_HOLIDAYS = 2000
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


class CalendarError(ValueError):
    """A calendar definition that cannot be used; the message names the field."""


@dataclass(frozen=True)
class Closure:
    """A closed period: an all-day holiday range (dates) or a timed closure (aware datetimes).

    All-day closures are local dates, `start` inclusive and `end` exclusive,
    as iCalendar writes them; timed ones are instants.
    """

    name: str
    start: date | datetime
    end: date | datetime

    @property
    def all_day(self) -> bool:
        """Whether this closure covers whole local days."""
        return not isinstance(self.start, datetime)


@dataclass(frozen=True)
class Calendar:
    """When the support team works.

    Attributes:
        tz: the time zone the windows are written in.
        windows: per weekday (0 = Monday), sorted non-overlapping (start, end)
            local times; an end of None means midnight at the end of the day.
        closures: holidays and other closed periods.
    """

    tz: ZoneInfo
    windows: tuple[tuple[tuple[time, time | None], ...], ...]
    closures: tuple[Closure, ...] = field(default=())

    @cached_property
    def closed_dates(self) -> frozenset[date]:
        """Every local date an all-day closure covers."""
        days = set()
        for closure in self.closures:
            if closure.all_day:
                day = closure.start
                while day < closure.end:
                    days.add(day)
                    day = date.fromordinal(day.toordinal() + 1)
        return frozenset(days)

    @cached_property
    def timed_closures(self) -> tuple[tuple[datetime, datetime], ...]:
        """Timed closures as (start, end) UTC instants, sorted."""
        return tuple(sorted((c.start.astimezone(UTC), c.end.astimezone(UTC)) for c in self.closures if not c.all_day))


def parse_calendar(time_zone, hours, holidays=()) -> Calendar:
    """Build a Calendar from its stored (JSON) form, checking every part.

    Args:
        time_zone: an IANA name such as "Europe/Paris".
        hours: {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], ...}; days
            left out are closed; "24:00" ends a window at midnight.
        holidays: [{"name": ..., "start": "2026-12-25", "end": "2026-12-26"}]
            for all-day ranges (end exclusive; a missing end means one day), or
            ISO datetimes with an offset for timed closures.

    Returns:
        The calendar.

    Raises:
        CalendarError: naming the first field that is wrong.
    """
    if not isinstance(time_zone, str) or not time_zone or len(time_zone) > 64:
        raise CalendarError("time_zone: an IANA time zone name such as Europe/Paris")
    try:
        tz = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(f"time_zone: unknown time zone {time_zone!r}")
    if not isinstance(hours, dict):
        raise CalendarError('hours: an object such as {"mon": [["09:00", "17:00"]]}')
    unknown = sorted(set(hours) - set(DAYS))
    if unknown:
        raise CalendarError(f"hours.{unknown[0]}: not a weekday (use {', '.join(DAYS)})")
    windows = tuple(_day_windows(day, hours.get(day) or []) for day in DAYS)
    if not any(windows):
        raise CalendarError("hours: at least one weekday needs a window")
    if not isinstance(holidays, (list, tuple)) or len(holidays) > MAX_HOLIDAYS:
        raise CalendarError(f"holidays: a list of at most {MAX_HOLIDAYS} closures")
    closures = tuple(_closure(index, item) for index, item in enumerate(holidays))
    return Calendar(tz=tz, windows=windows, closures=closures)


def _day_windows(day: str, raw) -> tuple[tuple[time, time | None], ...]:
    if not isinstance(raw, list) or len(raw) > MAX_WINDOWS_PER_DAY:
        raise CalendarError(f"hours.{day}: a list of at most {MAX_WINDOWS_PER_DAY} [start, end] pairs")
    parsed = []
    for index, pair in enumerate(raw):
        where = f"hours.{day}[{index}]"
        if not isinstance(pair, list) or len(pair) != 2 or not all(isinstance(p, str) for p in pair):
            raise CalendarError(f'{where}: a pair of times such as ["09:00", "17:00"]')
        start, end = (_clock(where, text) for text in pair)
        if start is None:
            raise CalendarError(f"{where}: 24:00 can only end a window")
        if end is not None and end <= start:
            raise CalendarError(f"{where}: must end after it starts (windows cannot cross midnight; split them)")
        parsed.append((start, end))
    parsed.sort(key=lambda w: w[0])
    for (_, previous_end), (start, _) in zip(parsed, parsed[1:], strict=False):
        if previous_end is None or previous_end > start:
            raise CalendarError(f"hours.{day}: windows overlap")
    return tuple(parsed)


def _clock(where: str, text: str) -> time | None:
    if not _CLOCK.match(text):
        raise CalendarError(f"{where}: {text!r} is not a time of day HH:MM")
    if text == "24:00":
        return None
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


def _closure(index: int, item) -> Closure:
    where = f"holidays[{index}]"
    if not isinstance(item, dict) or not isinstance(item.get("start"), str):
        raise CalendarError(f'{where}: an object with "start" (and optional "end", "name")')
    name = item.get("name", "")
    if not isinstance(name, str) or len(name) > 200:
        raise CalendarError(f"{where}.name: a string of at most 200 characters")
    start = _moment(f"{where}.start", item["start"])
    raw_end = item.get("end")
    if raw_end is None:
        if isinstance(start, datetime):
            raise CalendarError(f"{where}.end: a timed closure needs an end")
        end = date.fromordinal(start.toordinal() + 1)
    else:
        end = _moment(f"{where}.end", raw_end)
    if isinstance(start, datetime) != isinstance(end, datetime):
        raise CalendarError(f"{where}: start and end must both be dates or both be date-times")
    if end <= start:
        raise CalendarError(f"{where}: must end after it starts")
    return Closure(name=name, start=start, end=end)


def _moment(where: str, text) -> date | datetime:
    if not isinstance(text, str) or len(text) > 40:
        raise CalendarError(f"{where}: a date YYYY-MM-DD or a date-time with its offset")
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CalendarError(f"{where}: {text!r} is not a date YYYY-MM-DD or an ISO date-time")
    if moment.tzinfo is None:
        raise CalendarError(f"{where}: a date-time needs its UTC offset (e.g. 2026-12-24T14:00:00+01:00)")
    return moment


def closure_json(closure: Closure) -> dict:
    """The stored (JSON) form of a closure, the inverse of what parse_calendar reads."""
    return {"name": closure.name, "start": closure.start.isoformat(), "end": closure.end.isoformat()}
