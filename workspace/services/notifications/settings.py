"""What each agent wants pushed to their devices: kinds, priorities, muted queues, quiet hours, and only while
away from the console, and whether they are mailed too. The in-console list always has everything; these only
decide the pushes (and the mails)."""

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from workspace.errors import ValidationError
from workspace.extensions import db
from workspace.models import (
    NOTIFICATION_KINDS,
    Agent,
    Conversation,
    Notification,
    NotificationSettings,
    Priority,
    Queue,
    utcnow,
)
from workspace.services.notifications.subscriptions import UnsafeEndpoint, check_endpoint

CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
PRIORITIES = tuple(level.label for level in Priority)
FIELDS = ("kinds", "priorities", "muted_queues", "time_zone", "quiet_start", "quiet_end", "only_when_away",
          "include_text", "webhook_url", "email_enabled", "email_address")
# An address for notification mail: one mailbox, no spaces, quotes, angle brackets or line breaks (the
# OpenAPI document's pattern for email_address; checked here after trimming, so on the stripped value).
EMAIL_PATTERN = (r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
                 r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$")
EMAIL = re.compile(EMAIL_PATTERN.removesuffix("$") + r"\Z")
MAX_EMAIL = 254


def settings_for(agent_id: int) -> NotificationSettings:
    """The agent's settings, or the defaults (everything pushed, any time) when they never changed them."""
    row = db.session.get(NotificationSettings, agent_id)
    if row is None:
        row = NotificationSettings(agent_id=agent_id, kinds=list(NOTIFICATION_KINDS), priorities=list(PRIORITIES),
                                   muted_queue_ids=[], time_zone="UTC", quiet_start=None, quiet_end=None,
                                   only_when_away=False, include_text=False, email_enabled=False,
                                   email_address=None)
    return row


def update_settings(agent: Agent, data: dict) -> NotificationSettings:
    """Change some of the agent's settings; the others keep their values."""
    row = settings_for(agent.id)
    if "kinds" in data:
        row.kinds = _subset("kinds", data["kinds"], NOTIFICATION_KINDS)
    if "priorities" in data:
        row.priorities = _subset("priorities", data["priorities"], PRIORITIES)
    if "muted_queues" in data:
        slugs = data["muted_queues"]
        ids = dict(db.session.execute(sa.select(Queue.slug, Queue.id).where(Queue.slug.in_(slugs))).all())
        unknown = sorted(set(slugs) - set(ids))
        if unknown:
            raise ValidationError(f"muted_queues: no queue named {unknown[0]!r}", code="invalid_field")
        row.muted_queue_ids = sorted(ids.values())
    if "time_zone" in data:
        try:
            ZoneInfo(data["time_zone"])
        except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
            raise ValidationError("time_zone: not a known time zone (e.g. Europe/Paris)",
                                  code="invalid_field") from None
        row.time_zone = data["time_zone"]
    for key in ("quiet_start", "quiet_end"):
        if key in data:
            if data[key] is not None and not CLOCK.match(data[key]):
                raise ValidationError(f"{key}: a time of day as HH:MM, or null", code="invalid_field")
            setattr(row, key, data[key])
    if (row.quiet_start is None) != (row.quiet_end is None) or (row.quiet_start and row.quiet_start == row.quiet_end):
        raise ValidationError("quiet hours need a start and a different end (or neither)", code="invalid_field")
    if "webhook_url" in data:
        if data["webhook_url"] is not None:
            try:
                check_endpoint(data["webhook_url"])
            except UnsafeEndpoint as unsafe:
                raise ValidationError(f"webhook_url: {unsafe}", code="unsafe_endpoint") from None
        row.webhook_url = data["webhook_url"]
    if "email_address" in data:
        address = data["email_address"].strip() if isinstance(data["email_address"], str) else data["email_address"]
        if address is not None and (not isinstance(address, str) or len(address) > MAX_EMAIL
                                    or not EMAIL.match(address)):
            raise ValidationError("email_address: one address (name@example.com), or null for your own",
                                  code="invalid_field")
        row.email_address = address
    for key in ("only_when_away", "include_text", "email_enabled"):
        if key in data:
            setattr(row, key, bool(data[key]))
    row.updated_at = utcnow()
    db.session.add(row)
    db.session.commit()
    return row


def _subset(name: str, values, allowed: tuple) -> list[str]:
    if not isinstance(values, list) or any(value not in allowed for value in values):
        raise ValidationError(f"{name}: a list of {', '.join(allowed)}", code="invalid_field")
    return [value for value in allowed if value in values]


def in_quiet_hours(row: NotificationSettings, now: datetime) -> bool:
    """Whether `now` falls in the agent's quiet hours, in their time zone (a span past midnight allowed)."""
    if not row.quiet_start or not row.quiet_end:
        return False
    clock = now.astimezone(ZoneInfo(row.time_zone)).time()
    start, end = time.fromisoformat(row.quiet_start), time.fromisoformat(row.quiet_end)
    return start <= clock < end if start < end else clock >= start or clock < end


def wants_push(row: NotificationSettings, notification: Notification, conversation: Conversation | None,
               now: datetime, *, in_console: bool) -> bool:
    """Whether this notification may be pushed to the agent now, by their settings.

    A push to the person on call ignores quiet hours and muted queues: being on call is the agent's own choice.
    """
    if notification.kind not in row.kinds:
        return False
    if row.only_when_away and in_console:
        return False
    on_call = notification.key.startswith("oncall:")
    if conversation is not None and not on_call:
        if Priority(conversation.priority).label not in row.priorities:
            return False
        if conversation.queue_id in (row.muted_queue_ids or []):
            return False
    return on_call or not in_quiet_hours(row, now)
