"""One-time recovery codes for an agent's TOTP second factor (the TOTP columns live on Agent)."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow


class RecoveryCode(db.Model):
    """A recovery code, stored as its SHA-256 (codes are 80 random bits); usable once."""

    __tablename__ = "recovery_codes"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    agent_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # Set when the code signs someone in; a used code never works again.
    used_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
