"""The priority weights admins set: overrides of routing's defaults, one row for the whole workspace."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow


class PriorityWeightSetting(db.Model):
    """The stored priority weights: only the ones admins changed (the rest keep routing's defaults)."""

    __tablename__ = "priority_weights"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    values: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    updated_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("agents.id"))
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
