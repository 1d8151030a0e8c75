"""Messages: inbound posts, outbound replies and internal notes."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow

DIRECTIONS = ("inbound", "outbound", "note")


class Message(db.Model):
    """One post, reply or note; inbound ones keep the sender's external id."""

    __tablename__ = "messages"
    __table_args__ = (
        # A re-delivered webhook finds its message here and changes nothing.
        # Outbound messages and notes have no external id (NULLs never clash).
        sa.UniqueConstraint("channel_id", "external_id", name="uq_messages_channel_external"),
        sa.Index("ix_messages_conversation", "conversation_id", "id"),
        # A sender's recent messages: the email channel's flood check reads a range of it.
        sa.Index("ix_messages_author_received", "author_id", "received_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    conversation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("conversations.id"))
    channel_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("channels.id"))
    author_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("authors.id"))
    agent_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("agents.id"))
    direction: so.Mapped[str] = so.mapped_column(sa.String(8), default="inbound")
    external_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    in_reply_to: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    subject: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    url: so.Mapped[Optional[str]] = so.mapped_column(sa.String(2048))
    # ISO 639-1 code detected when routing read it (routing.language); None before, or without letters.
    language: so.Mapped[Optional[str]] = so.mapped_column(sa.String(8))
    # The sender's payload as received, unknown fields included.
    raw: so.Mapped[Optional[dict]] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    received_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # Outbound replies only: queued, sent or failed, with the last error and tries.
    # Outbound only: set when a machine wrote it without an agent ("acknowledgement": a channel's first reply).
    automatic: so.Mapped[Optional[str]] = so.mapped_column(sa.String(32))
    delivery_status: so.Mapped[Optional[str]] = so.mapped_column(sa.String(16))
    delivery_error: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    delivery_attempts: so.Mapped[int] = so.mapped_column(default=0)
    delivered_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    # Chosen before the first send and reused by every retry, so a receiver (or
    # our own check of a Discourse topic) can tell a resend from a new reply.
    delivery_key: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))
    # When the latest attempt started: an attempt still "sending" long after
    # this died with its worker, and the next one may take over.
    delivery_attempted_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    # Inbound only: when the post was deleted where it was written (hidden until it is recovered there),
    # and the versions an edit at the source replaced, oldest first: [{"text", "subject", "replaced_at"}].
    hidden_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    edits: so.Mapped[Optional[list]] = so.mapped_column(sa.JSON)

    conversation = so.relationship("Conversation", back_populates="messages")
    # Received email only (see models.email); loaded when a thread shows an email message.
    attachments = so.relationship("EmailAttachment", back_populates="message", order_by="EmailAttachment.id",
                                  passive_deletes=True)
    author = so.relationship("Author")
    agent = so.relationship("Agent")
