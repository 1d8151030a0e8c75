"""What supervisors work with: volume rollups, incidents (known issues) and quality reviews."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow
from workspace.models.conversation import Conversation

# Dashboard figures read conversations by when they were answered and resolved
# ("today", "this week"); without these they would read the whole table.
sa.Index("ix_conversations_first_reply_at", Conversation.first_reply_at)
sa.Index("ix_conversations_resolved_at", Conversation.resolved_at, Conversation.assignee_id)

INCIDENT_STATUSES = ("open", "resolved")
# What an incident matches new posts on: a queue slug, a tag, or a phrase in the text.
MATCH_KINDS = ("queue", "tag", "phrase")


class VolumeCount(db.Model):
    """Incoming posts per 5-minute bucket for one queue, tag or model label, kept by the routing job.

    The dashboard's volume and sentiment charts, the weekly report and spike
    detection read these few rows instead of counting conversations.
    """

    __tablename__ = "volume_counts"

    kind: so.Mapped[str] = so.mapped_column(sa.String(8), primary_key=True)  # "queue", "tag" or "label"
    bucket_start: so.Mapped[datetime] = so.mapped_column(UTCDateTime, primary_key=True)
    key: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    posts: so.Mapped[int] = so.mapped_column(default=0)
    # Sum of the posts' VADER compound scores (mean = sum / posts) and how many were negative.
    sentiment_sum: so.Mapped[float] = so.mapped_column(default=0.0)
    negative: so.Mapped[int] = so.mapped_column(default=0)


# Which conversations belong to which incident.
incident_conversations = sa.Table(
    "incident_conversations", db.metadata,
    sa.Column("incident_id", sa.ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("conversation_id", sa.ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("added_at", UTCDateTime, nullable=False),
    sa.Index("ix_incident_conversations_conversation", "conversation_id"),
)


class Incident(db.Model):
    """A known issue: a spike's conversations grouped under one title, joined by new matching posts while open."""

    __tablename__ = "incidents"
    __table_args__ = (sa.Index("ix_incidents_status", "status", "id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="open")
    # New posts join while open when they match: kind is one of MATCH_KINDS (or None: manual only).
    match_kind: so.Mapped[Optional[str]] = so.mapped_column(sa.String(8))
    match_value: so.Mapped[Optional[str]] = so.mapped_column(sa.String(120))
    # The detector's figures when a spike opened it (observed, expected, z, window); None if made by hand.
    spike: so.Mapped[Optional[dict]] = so.mapped_column(sa.JSON)
    created_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("agents.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    resolved_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    # The macro that answers it: offered on every conversation the incident holds or whose post matches it.
    answer_macro_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("macros.id", ondelete="SET NULL"))

    answer_macro = so.relationship("Macro")


SCORES = ("accuracy", "tone", "resolution")


class QaReview(db.Model):
    """A supervisor's scorecard of one agent reply: accuracy, tone and resolution 1-5, and a comment."""

    __tablename__ = "qa_reviews"
    __table_args__ = (
        sa.UniqueConstraint("message_id", name="uq_qa_reviews_message"),
        sa.Index("ix_qa_reviews_agent", "agent_id", "created_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    message_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("messages.id", ondelete="CASCADE"))
    conversation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("conversations.id", ondelete="CASCADE"))
    # The agent who wrote the reply, and the supervisor who scored it.
    agent_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("agents.id"))
    reviewer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("agents.id"))
    accuracy: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    tone: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    resolution: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    comment: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    message = so.relationship("Message")
    agent = so.relationship("Agent", foreign_keys=[agent_id])
    reviewer = so.relationship("Agent", foreign_keys=[reviewer_id])
