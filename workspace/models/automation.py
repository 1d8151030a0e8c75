"""Automations (conditions on a conversation's state over time, and actions) and their firings."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow

# How a firing ended: its actions applied, or refused (the refusal is kept; the same state never retries).
FIRING_RESULTS = ("applied", "failed")


class Automation(db.Model):
    """A named set of conditions and the actions taken when a conversation meets them all.

    `conditions` and `actions` are lists as services.automations.rules parses
    them. The scheduler looks at enabled ones in `position` order.
    """

    __tablename__ = "automations"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    enabled: so.Mapped[bool] = so.mapped_column(default=False)
    position: so.Mapped[int] = so.mapped_column(default=0)
    conditions: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    actions: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    # Set on the ones Switchboard ships, so seeding them twice adds nothing.
    key: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class AutomationFiring(db.Model):
    """One automation fired on one conversation in one state: the unique key is what stops a second firing."""

    __tablename__ = "automation_firings"
    __table_args__ = (
        sa.UniqueConstraint("automation_id", "conversation_id", "state", name="uq_automation_firings_state"),
        sa.Index("ix_automation_firings_conversation", "conversation_id", "id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    automation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("automations.id", ondelete="CASCADE"))
    conversation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("conversations.id", ondelete="CASCADE"))
    # A digest of the values the automation's conditions read (services.automations.engine.state_of).
    state: so.Mapped[str] = so.mapped_column(sa.String(40))
    result: so.Mapped[str] = so.mapped_column(sa.String(16), default="applied")
    # What the actions changed (as macros record it), or why they were refused.
    changes: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    error: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    fired_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    automation = so.relationship("Automation")
