"""Suggestion versions (the ranker's trainings) and the suggestions shown beside conversations."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow

SUGGESTION_KINDS = ("macro", "reply", "article")
# What the agent did with a suggestion: nothing yet (shown), put it in the composer, sent it as inserted,
# sent it after editing, or passed it by (sent something else, or dismissed it).
OUTCOMES = ("shown", "inserted", "sent", "edited", "ignored")


class SuggestionVersion(db.Model):
    """One training of the suggestion ranker: what it learned from, how it ranked held-out posts, whether active.

    The ranker is rebuilt from the rows up to `watermark` (the newest audit entry and message it read), so a
    version needs no stored model file: any worker rebuilds the same one.
    """

    __tablename__ = "suggestion_versions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    active: so.Mapped[bool] = so.mapped_column(default=False, index=True)
    # {"audit_id": newest macro application read, "message_id": newest reply read}.
    watermark: so.Mapped[dict] = so.mapped_column(sa.JSON)
    metrics: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    training_size: so.Mapped[int] = so.mapped_column(default=0)
    # Why it was (or was not) promoted, in words.
    decision: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    trained_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    promoted_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)


class Suggestion(db.Model):
    """A macro, article or past reply proposed for a conversation, with its source, confidence and what became of it."""

    __tablename__ = "suggestions"
    __table_args__ = (sa.Index("ix_suggestions_conversation", "conversation_id", "id"),
                      sa.Index("ix_suggestions_version_outcome", "version_id", "outcome"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    conversation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("conversations.id", ondelete="CASCADE"))
    version_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("suggestion_versions.id", ondelete="CASCADE"))
    # The inbound message it was computed for: a newer post makes new suggestions.
    message_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("messages.id", ondelete="CASCADE"))
    kind: so.Mapped[str] = so.mapped_column(sa.String(8))
    macro_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("macros.id", ondelete="CASCADE"))
    article_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("articles.id", ondelete="CASCADE"))
    # The past reply (kind reply), whose conversation is the source shown.
    source_message_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("messages.id",
                                                                                 ondelete="CASCADE"))
    rank: so.Mapped[int] = so.mapped_column()
    confidence: so.Mapped[float] = so.mapped_column(sa.Float)
    evidence: so.Mapped[str] = so.mapped_column(sa.String(16))
    outcome: so.Mapped[str] = so.mapped_column(sa.String(8), default="shown")
    agent_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("agents.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    shown_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    decided_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)

    macro = so.relationship("Macro")
    article = so.relationship("Article")
    source_message = so.relationship("Message", foreign_keys=[source_message_id])
