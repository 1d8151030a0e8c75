"""People: one customer across channels, grouping their authors, and the links that join them."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow

# What a proposed link between two authors rests on.
EVIDENCE_KINDS = ("email", "profile_url", "name_handle", "agent")
# proposed: waiting for an agent; confirmed: the authors are one person; dismissed: an agent said no;
# undone: confirmed once, then taken back (its `merge` says what was restored).
LINK_STATUSES = ("proposed", "confirmed", "dismissed", "undone")


class Person(db.Model):
    """One customer: the authors they write as, on any channel, and the fields the team keeps on them."""

    __tablename__ = "people"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(255), default="")
    # Custom fields (plan, CRM id, country, ...): names to short strings, numbers or booleans.
    fields: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    # Set when a merge folded this person into another; an undo clears it again.
    merged_into_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("people.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    authors = so.relationship("Author", back_populates="person", order_by="Author.id")


class PersonLink(db.Model):
    """Two authors that may be one person: the evidence, and what an agent decided.

    The pair is stored lower id first, so a pair has one row whoever found it.
    """

    __tablename__ = "person_links"
    __table_args__ = (sa.UniqueConstraint("author_id", "other_author_id"),
                      sa.Index("ix_person_links_other", "other_author_id"),
                      sa.Index("ix_person_links_status", "status", "id"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    author_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("authors.id", ondelete="CASCADE"))
    other_author_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("authors.id", ondelete="CASCADE"))
    # [{"kind": one of EVIDENCE_KINDS, "detail": what matched}, ...]
    evidence: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="proposed")
    proposed_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("agents.id"))
    decided_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("agents.id"))
    # What confirming changed, so an undo can put it back (see services.people.links).
    merge: so.Mapped[Optional[dict]] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    decided_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)

    author = so.relationship("Author", foreign_keys=[author_id])
    other_author = so.relationship("Author", foreign_keys=[other_author_id])
    decided_by = so.relationship("Agent", foreign_keys=[decided_by_id])
