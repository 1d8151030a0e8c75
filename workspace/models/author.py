"""Authors: the customers behind posts."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow


class Author(db.Model):
    """A customer, one per (channel, external user id)."""

    __tablename__ = "authors"
    # email and handle are indexed for finding the same customer on another channel (services.people).
    __table_args__ = (sa.UniqueConstraint("channel_id", "external_id"),
                      sa.Index("ix_authors_email", "email"), sa.Index("ix_authors_handle", "handle"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    channel_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("channels.id"))
    external_id: so.Mapped[str] = so.mapped_column(sa.String(255))
    handle: so.Mapped[str] = so.mapped_column(sa.String(255), default="")
    name: so.Mapped[str] = so.mapped_column(sa.String(255), default="")
    email: so.Mapped[Optional[str]] = so.mapped_column(sa.String(254))
    followers: so.Mapped[int] = so.mapped_column(default=0)
    verified: so.Mapped[bool] = so.mapped_column(default=False)
    # A forum's standing for the user (Discourse trust level 0-4), when it has one.
    trust_level: so.Mapped[Optional[int]] = so.mapped_column(sa.SmallInteger)
    # Their profile's own web address (a homepage, or their page elsewhere) and their picture, when the sender says.
    profile_url: so.Mapped[Optional[str]] = so.mapped_column(sa.String(2048))
    avatar_url: so.Mapped[Optional[str]] = so.mapped_column(sa.String(2048))
    # The person this author is one of, once linked to another author (or given custom fields).
    person_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("people.id"), index=True)
    tags: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    channel = so.relationship("Channel")
    person = so.relationship("Person", back_populates="authors")


class AuthorNote(db.Model):
    """An internal note about a customer, written by an agent."""

    __tablename__ = "author_notes"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    author_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("authors.id", ondelete="CASCADE"), index=True)
    agent_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("agents.id"))
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    agent = so.relationship("Agent")
