"""Queues: named, ordered work lists."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow

TRIAGE = "triage"


class Queue(db.Model):
    """A work list with SLA targets per priority (minutes to first reply)."""

    __tablename__ = "queues"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    # Appended to email replies sent from this queue (plain text; the HTML part gets it escaped).
    signature: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    # {"urgent": 30, "high": 120, ...}; missing levels use the app default.
    sla_minutes: so.Mapped[Optional[dict]] = so.mapped_column(sa.JSON)
    # The classifier's confidence needed to route here; None uses the default.
    routing_threshold: so.Mapped[Optional[float]] = so.mapped_column()
    # Automatic assignment: "off", "round_robin" or "least_loaded" (models/assignment.py).
    assignment: so.Mapped[str] = so.mapped_column(sa.String(16), default="off", server_default="off")
    # Who answers for the queue: automations can hand a conversation to them ("assign" to "lead").
    lead_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("agents.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    lead = so.relationship("Agent", foreign_keys=[lead_id])
    members: so.Mapped[list["Agent"]] = so.relationship(  # noqa: F821
        secondary="queue_members", back_populates="queues", order_by="Agent.name")
