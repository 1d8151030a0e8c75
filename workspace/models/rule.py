"""Routing rules as admins define them (compiled by the routing library)."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow


class Rule(db.Model):
    """An ordered condition/action rule; the spec format is routing.rules'."""

    __tablename__ = "rules"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    position: so.Mapped[int] = so.mapped_column(index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    enabled: so.Mapped[bool] = so.mapped_column(default=True)
    conditions: so.Mapped[dict] = so.mapped_column(sa.JSON)
    actions: so.Mapped[dict] = so.mapped_column(sa.JSON)
    created_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("agents.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    def spec(self) -> dict:
        """The rule as the routing library compiles it."""
        return {"id": self.id, "name": self.name, "enabled": self.enabled,
                "conditions": self.conditions, "actions": self.actions}
