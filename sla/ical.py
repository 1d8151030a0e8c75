"""A small iCalendar (RFC 5545) reader for holiday feeds: VEVENTs in, closures out.

It reads what holiday calendars publish (Google, Outlook, government feeds):
all-day events (`DTSTART;VALUE=DATE`), timed events in UTC (`...Z`), with a
`TZID`, or floating (read in the calendar's own zone), with `DTEND` or
`DURATION`. Recurring events (`RRULE`) are reported as skipped rather than
guessed at; cancelled events are ignored.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .calendar import MAX_HOLIDAYS, Closure

_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DATETIME = re.compile(r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)$")
_DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


class ICalError(ValueError):
    """A file that is not an iCalendar this reader can use; the message says where."""


@dataclass
class ICalResult:
    """What an import found: closures, and events it left out with the reason."""

    closures: list[Closure] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def parse_ical(text: str, default_tz: ZoneInfo) -> ICalResult:
    """Read the VEVENTs of an iCalendar file as closures.

    Args:
        text: the file's content.
        default_tz: the zone of floating times (those with neither Z nor TZID).

    Returns:
        The closures, in file order, and a note per skipped event.

    Raises:
        ICalError: not an iCalendar, or an event whose dates cannot be read.
    """
    lines = _unfold(text)
    if not lines or lines[0].upper() != "BEGIN:VCALENDAR":
        raise ICalError("not an iCalendar file: it must start with BEGIN:VCALENDAR")
    result = ICalResult()
    event: list[tuple[str, dict, str]] | None = None
    depth = 0  # components nested in a VEVENT (VALARM) are not the event's own properties
    for number, line in enumerate(lines, start=1):
        name, params, value = _property(number, line)
        if name == "BEGIN" and value.upper() == "VEVENT":
            event = []
        elif event is not None and name == "BEGIN":
            depth += 1
        elif event is not None and name == "END" and depth:
            depth -= 1
        elif event is not None and name == "END" and value.upper() == "VEVENT":
            closure = _closure(event, default_tz, result)
            if closure is not None:
                result.closures.append(closure)
                if len(result.closures) > MAX_HOLIDAYS:
                    raise ICalError(f"more than {MAX_HOLIDAYS} events")
            event = None
        elif event is not None and not depth:
            event.append((name, params, value))
    if event is not None:
        raise ICalError("a VEVENT is not closed with END:VEVENT")
    return result


def _unfold(text: str) -> list[str]:
    """Join continuation lines (those starting with a space or tab) onto the line before."""
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        elif raw.strip():
            lines.append(raw)
    return lines


def _property(number: int, line: str) -> tuple[str, dict, str]:
    """Split `NAME;PARAM=V;...:VALUE` (a colon inside a quoted parameter does not end the name)."""
    quoted = False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            head, value = line[:index], line[index + 1:]
            break
    else:
        raise ICalError(f"line {number}: no ':' between a property's name and its value")
    name, *raw_params = head.split(";")
    params = {}
    for raw in raw_params:
        key, _, param_value = raw.partition("=")
        params[key.upper()] = param_value.strip('"')
    return name.upper(), params, value


def _closure(event: list[tuple[str, dict, str]], default_tz: ZoneInfo, result: ICalResult) -> Closure | None:
    props = {name: (params, value) for name, params, value in event}
    summary = _text(props.get("SUMMARY", ({}, ""))[1])[:200]
    label = summary or props.get("UID", ({}, "an event"))[1]
    if props.get("STATUS", ({}, ""))[1].upper() == "CANCELLED":
        return None
    if "RRULE" in props:
        result.skipped.append(f"{label}: recurring events (RRULE) are not expanded; list each date")
        return None
    if "DTSTART" not in props:
        raise ICalError(f"{label}: an event without DTSTART")
    start = _when(label, "DTSTART", *props["DTSTART"], default_tz)
    if "DTEND" in props:
        end = _when(label, "DTEND", *props["DTEND"], default_tz)
    elif "DURATION" in props:
        end = start + _duration(label, props["DURATION"][1])
    else:  # RFC 5545: a date lasts one day; a date-time alone is an instant
        end = start + timedelta(days=1) if not isinstance(start, datetime) else start
    if isinstance(start, datetime) != isinstance(end, datetime):
        raise ICalError(f"{label}: DTSTART and DTEND must both be dates or both date-times")
    if end <= start:
        result.skipped.append(f"{label}: it ends when it starts, so it closes nothing")
        return None
    return Closure(name=summary, start=start, end=end)


def _when(label: str, name: str, params: dict, value: str, default_tz: ZoneInfo) -> date | datetime:
    value = value.strip()
    if params.get("VALUE", "").upper() == "DATE" or _DATE.match(value):
        match = _DATE.match(value)
        if not match:
            raise ICalError(f"{label}: {name} {value!r} is not a date YYYYMMDD")
        return _checked(label, name, value, lambda: date(*map(int, match.groups())))
    match = _DATETIME.match(value)
    if not match:
        raise ICalError(f"{label}: {name} {value!r} is not a date-time YYYYMMDDTHHMMSS[Z]")
    *parts, utc = match.groups()
    if utc:
        tz = ZoneInfo("UTC")
    elif "TZID" in params:
        try:
            tz = ZoneInfo(params["TZID"])
        except (ZoneInfoNotFoundError, ValueError):
            raise ICalError(f"{label}: {name} has an unknown TZID {params['TZID']!r}")
    else:
        tz = default_tz
    return _checked(label, name, value, lambda: datetime(*map(int, parts), tzinfo=tz))


def _checked(label: str, name: str, value: str, build):
    try:
        return build()
    except ValueError:
        raise ICalError(f"{label}: {name} {value!r} is not a real date")


def _duration(label: str, value: str) -> timedelta:
    match = _DURATION.match(value.strip())
    if not match or not any(match.groups()):
        raise ICalError(f"{label}: DURATION {value!r} is not a positive duration such as PT2H or P1D")
    weeks, days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)


def _text(value: str) -> str:
    """Undo iCalendar's text escapes."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value).strip()
