"""The outbox: routing work recorded in the same transaction as the post."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow


class OutboxEntry(db.Model):
    """A conversation that needs routing, waiting to be handed to RQ."""

    __tablename__ = "outbox"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    conversation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("conversations.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    conversation = so.relationship("Conversation")
