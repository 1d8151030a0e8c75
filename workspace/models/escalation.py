"""Escalations: a conversation handed to the ticketing system as a ticket."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow

# Ticket statuses (Zendesk's) after which the ticketing team is done with it.
TICKET_DONE_STATUSES = ("solved", "closed")


class Escalation(db.Model):
    """One ticket per conversation (the ticket's external_id is the conversation id), its state synced back."""

    __tablename__ = "escalations"
    __table_args__ = (sa.Index("ix_escalations_state_requested", "state", "requested_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # Unique: escalating twice, or two agents at once, finds the same row.
    conversation_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("conversations.id", ondelete="CASCADE"), unique=True)
    agent_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("agents.id"))
    # pending: asked for, the ticket not made yet (the job retries until it is);
    # created: the ticket exists and ticket_id names it.
    state: so.Mapped[str] = so.mapped_column(sa.String(16), default="pending")
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    last_error: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    # A job working on the escalation holds it until then, so two jobs never create at once.
    locked_until: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    ticket_id: so.Mapped[Optional[int]] = so.mapped_column(sa.BigInteger, index=True)
    ticket_url: so.Mapped[Optional[str]] = so.mapped_column(sa.String(2048))
    ticket_status: so.Mapped[Optional[str]] = so.mapped_column(sa.String(16))
    # The time of the newest status change applied: an older webhook arriving late changes nothing.
    ticket_status_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    requested_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    created_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    # The backref keeps Conversation's module untouched; conversation.escalation is None or this.
    conversation = so.relationship("Conversation", backref=so.backref("escalation", uselist=False))
    agent = so.relationship("Agent")
