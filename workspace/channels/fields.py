"""Checked reads of untrusted JSON, with errors that name the field."""

from datetime import UTC, datetime
from urllib.parse import urlsplit

from workspace.errors import ValidationError

MAX_ID = 255
MAX_SHORT = 255
MAX_SUBJECT = 500
MAX_URL = 2048
# Timestamps outside these years are a sender's mistake, and near datetime's ends a timezone
# shift or a thread window overflows.
EARLIEST_YEAR, LATEST_YEAR = 1970, 2999


def _fail(path: str, problem: str):
    raise ValidationError(f"{path}: {problem}", code="invalid_field")


def _clean(path: str, value: str, limit: int | None) -> str:
    # PostgreSQL cannot store NUL in text; refuse it rather than alter the post.
    if "\x00" in value:
        _fail(path, "must not contain NUL characters")
    if limit is not None and len(value) > limit:
        _fail(path, f"must be at most {limit} characters")
    return value


def get_object(data, path: str) -> dict:
    """Return `data` if it is a JSON object, else fail naming `path`."""
    if not isinstance(data, dict):
        _fail(path, "must be an object")
    return data


def get_id(data: dict, key: str, path: str, *, required: bool = True) -> str | None:
    """Return an identifier given as a non-empty string or an integer, as text."""
    value = data.get(key)
    if value is None:
        if required:
            _fail(path, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        _fail(path, "must be a string or an integer")
    text = _clean(path, str(value).strip(), MAX_ID)
    if not text:
        _fail(path, "must not be empty")
    return text


def get_text(data: dict, key: str, path: str, *, required: bool = False,
             limit: int | None = MAX_SHORT, allow_empty: bool = True) -> str | None:
    """Return a string field, checking type, NULs, length and emptiness."""
    value = data.get(key)
    if value is None:
        if required:
            _fail(path, "is required")
        return None
    if not isinstance(value, str):
        _fail(path, "must be a string")
    value = _clean(path, value, limit)
    if not allow_empty and not value.strip():
        _fail(path, "must not be empty")
    return value


def get_int(data: dict, key: str, path: str) -> int | None:
    """Return a non-negative integer field, or None when absent."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        _fail(path, "must be a non-negative integer")
    return min(value, 2**62)


def get_bool(data: dict, key: str, path: str) -> bool | None:
    """Return a boolean field, or None when absent."""
    value = data.get(key)
    if value is not None and not isinstance(value, bool):
        _fail(path, "must be true or false")
    return value


def get_url(data: dict, key: str, path: str) -> str | None:
    """Return an http(s) URL field; any other scheme is refused."""
    value = get_text(data, key, path, limit=MAX_URL)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        _fail(path, "must be an http or https URL")
    return value


def get_time(data: dict, key: str, path: str) -> datetime | None:
    """Return an ISO 8601 timestamp as aware UTC (naive ones are taken as UTC)."""
    value = get_text(data, key, path, limit=64)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        _fail(path, "must be an ISO 8601 timestamp")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return in_range(moment, path)


def in_range(moment: datetime, path: str) -> datetime:
    """Return an aware timestamp as UTC if its year is from EARLIEST_YEAR to LATEST_YEAR, else fail naming `path`."""
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        _fail(path, f"must be a time from {EARLIEST_YEAR} to {LATEST_YEAR}")
    return moment.astimezone(UTC)
