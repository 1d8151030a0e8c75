"""The audit log: who changed what, when, from what to what."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow


class AuditEntry(db.Model):
    """One recorded change made by an agent (or by the system when agent is None)."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_target", "target_type", "target_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    agent_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("agents.id"))
    action: so.Mapped[str] = so.mapped_column(sa.String(64))
    target_type: so.Mapped[str] = so.mapped_column(sa.String(32))
    target_id: so.Mapped[Optional[int]] = so.mapped_column()
    before: so.Mapped[Optional[dict]] = so.mapped_column(sa.JSON)
    after: so.Mapped[Optional[dict]] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)

    agent = so.relationship("Agent")
