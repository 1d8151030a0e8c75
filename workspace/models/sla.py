"""SLA policies, the business-hours calendars they count in, and the outcomes kept for reporting."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow

# The clocks a conversation can run: minutes to the first reply, to the next
# reply after each customer message, and to resolution.
TARGETS = ("first_reply", "next_reply", "resolution")


class BusinessCalendar(db.Model):
    """When the team works: windows per weekday in a time zone, and holidays.

    `hours` is {"mon": [["09:00", "17:00"]], ...}; `holidays` is a list of
    {"name", "start", "end"} (dates, end exclusive, or ISO date-times with an
    offset), entered by hand or imported from an iCalendar file. Both are read
    by `sla.parse_calendar`, which the services call before saving.
    """

    __tablename__ = "business_calendars"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    time_zone: so.Mapped[str] = so.mapped_column(sa.String(64))
    hours: so.Mapped[dict] = so.mapped_column(sa.JSON)
    holidays: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class SlaPolicy(db.Model):
    """A queue's targets for one priority level; a missing target is not measured.

    Without a policy a queue's level falls back to a calendar-time first-reply
    target from `Queue.sla_minutes` (or the app default).
    """

    __tablename__ = "sla_policies"
    __table_args__ = (sa.UniqueConstraint("queue_id", "priority", name="uq_sla_policies_queue_priority"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    queue_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("queues.id", ondelete="CASCADE"))
    priority: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    first_reply_minutes: so.Mapped[Optional[int]] = so.mapped_column()
    next_reply_minutes: so.Mapped[Optional[int]] = so.mapped_column()
    resolution_minutes: so.Mapped[Optional[int]] = so.mapped_column()
    # Business time needs a calendar; calendar time ignores it.
    business_hours: so.Mapped[bool] = so.mapped_column(default=False)
    calendar_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("business_calendars.id"))
    # At risk once this share of a target has elapsed; None uses the app default.
    at_risk_fraction: so.Mapped[Optional[float]] = so.mapped_column()
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    queue = so.relationship("Queue")
    calendar = so.relationship("BusinessCalendar")


class SlaOutcome(db.Model):
    """One target of one conversation, hit or missed: the rows SLA reports count.

    A row appears when a target is met (`met` true), or as soon as it is
    breached (`met` false, `completed_at` filled in when the work is finally
    done), so reports see misses that are still open.
    """

    __tablename__ = "sla_outcomes"
    __table_args__ = (
        sa.UniqueConstraint("conversation_id", "target", "started_at", name="uq_sla_outcomes_target_run"),
        sa.Index("ix_sla_outcomes_queue_due", "queue_id", "due_at"),
        # The weekly report's hits: outcomes met in a week (misses are found by due_at).
        sa.Index("ix_sla_outcomes_queue_completed", "queue_id", "completed_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    conversation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("conversations.id", ondelete="CASCADE"))
    queue_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("queues.id"))
    priority: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    target: so.Mapped[str] = so.mapped_column(sa.String(16))
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    due_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    completed_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    met: so.Mapped[bool] = so.mapped_column()
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
