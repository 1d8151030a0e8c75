"""Saved views: an agent's or a team's named filter set over conversations, shown with a live count."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow


class SavedView(db.Model):
    """A named filter set: its owner's alone, or shared with a team (the agents of one queue)."""

    __tablename__ = "saved_views"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(80))
    owner_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    # Set for a team view: the queue whose agents see it (None: the owner's alone).
    team_queue_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("queues.id", ondelete="CASCADE"),
                                                               index=True)
    # {"queue", "status", "tags", "channel", "assignee", "priority", "text"} (services/views.py checks them).
    filters: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    owner = so.relationship("Agent")
    team_queue = so.relationship("Queue")
