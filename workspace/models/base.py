"""Column types and helpers shared by the models."""

from datetime import UTC, datetime

import sqlalchemy as sa

# The largest id a row can have: the keys are INTEGER, 32 bits on PostgreSQL (SQLite's 64 bits are held
# to the same bound, so both databases answer alike).
MAX_ID = 2**31 - 1


def is_id(value) -> bool:
    """Tell whether a decoded JSON value can be a row's id: a whole number (not a bool) from 1 to MAX_ID."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored as naive UTC and always read back as aware UTC.

    SQLite has no time zones; storing naive UTC everywhere keeps comparisons
    and ordering identical on SQLite and PostgreSQL.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)
