"""Single sign-on identities: which provider account signs in as which agent."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.agent import Agent
from workspace.models.base import UTCDateTime, utcnow


class SsoIdentity(db.Model):
    """An OpenID Connect account (issuer and subject, never the email, which can change) linked to an agent."""

    __tablename__ = "sso_identities"
    __table_args__ = (sa.UniqueConstraint("issuer", "subject", name="uq_sso_identities_issuer_subject"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    agent_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    issuer: so.Mapped[str] = so.mapped_column(sa.String(255))
    # OpenID Connect caps `sub` at 255 ASCII characters.
    subject: so.Mapped[str] = so.mapped_column(sa.String(255))
    # The verified email the provider gave at the last sign-in (for admins to read; matching uses the subject).
    email: so.Mapped[str] = so.mapped_column(sa.String(254))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    last_signed_in_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)

    agent: so.Mapped[Agent] = so.relationship()
