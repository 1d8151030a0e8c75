"""Assignments: who got a conversation (or lost it back to the queue), and why."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow

# How a queue hands out work: not at all (agents take it), to the agent whose
# last assignment here is oldest, or to the one with the largest share of
# spare capacity.
STRATEGIES = ("off", "round_robin", "least_loaded")


class Assignment(db.Model):
    """One automatic assignment or return, with the reason for every agent considered.

    `candidates` is [{"agent_id", "name", "outcome", "reason", "load",
    "capacity"}], where outcome is "chosen", "eligible", "offline", "away",
    "at_capacity" or "not_in_queue".
    """

    __tablename__ = "assignments"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    conversation_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    queue_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("queues.id"))
    agent_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("agents.id"))
    # "assigned" or "returned" (given back to the queue: the agent went away).
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    strategy: so.Mapped[str] = so.mapped_column(sa.String(16))
    reason: so.Mapped[str] = so.mapped_column(sa.Text)
    candidates: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    agent = so.relationship("Agent")
