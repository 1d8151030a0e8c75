"""Satisfaction (CSAT): a customer's one answer about a conversation."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow


class SatisfactionRating(db.Model):
    """A 1-5 score and a comment; one per conversation (a second answer is refused), with who handled it."""

    __tablename__ = "satisfaction_ratings"
    __table_args__ = (sa.Index("ix_satisfaction_ratings_created", "created_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    conversation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("conversations.id", ondelete="CASCADE"),
                                                       unique=True)
    score: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    comment: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    # The conversation's assignee and queue when it was answered (the dashboard's figures per agent and queue).
    agent_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("agents.id", ondelete="SET NULL"))
    queue_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("queues.id", ondelete="SET NULL"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
