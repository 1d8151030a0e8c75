"""Help articles: the knowledge base agents search, insert into replies and get suggested."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow

ARTICLE_STATUSES = ("draft", "published")


class Article(db.Model):
    """One help article: a Markdown body (rendered safely), where it lives outside, and who it is for."""

    __tablename__ = "articles"
    __table_args__ = (sa.Index("ix_articles_status_updated", "status", "updated_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # What macros call it by: {{ article('refund-policy').url }}.
    slug: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    body: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    tags: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    # The queue it is for (None: every queue).
    queue_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("queues.id", ondelete="SET NULL"))
    locale: so.Mapped[str] = so.mapped_column(sa.String(16), default="en")
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="draft")
    # Where customers read it (a help centre, a forum topic); what a link in a reply points to.
    external_url: so.Mapped[Optional[str]] = so.mapped_column(sa.String(2048))
    # Where it came from: admin, folder or discourse.
    source: so.Mapped[str] = so.mapped_column(sa.String(16), default="admin")
    created_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("agents.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    queue = so.relationship("Queue")
