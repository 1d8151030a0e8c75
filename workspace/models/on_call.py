"""On-call rotas: who takes a queue's urgent conversations out of hours, week by week and day by day."""

from datetime import date
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db


class OnCallShift(db.Model):
    """One agent on call for one queue from `start` to `end` ("18:00" to "08:00", past midnight allowed).

    A shift with a `weekday` (0 = Monday) repeats every week; one with an `on_date` is that day's override,
    and a queue's overrides for a day replace its weekly shifts that day. Times are in the time zone of the
    queue's calendar (UTC without one). `position` orders the people on call at once: the first is pushed
    first, the next when the first has not opened the conversation in time.
    """

    __tablename__ = "on_call_shifts"
    __table_args__ = (sa.Index("ix_on_call_shifts_queue", "queue_id", "on_date", "weekday"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    queue_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("queues.id", ondelete="CASCADE"))
    agent_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("agents.id", ondelete="CASCADE"))
    weekday: so.Mapped[Optional[int]] = so.mapped_column(sa.SmallInteger)
    on_date: so.Mapped[Optional[date]] = so.mapped_column(sa.Date)
    start: so.Mapped[str] = so.mapped_column(sa.String(5))
    end: so.Mapped[str] = so.mapped_column(sa.String(5))
    position: so.Mapped[int] = so.mapped_column(default=0)

    agent = so.relationship("Agent")
