"""Macros (reply templates with actions) and how often each agent uses them."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow

# personal: its owner's; team: one queue's agents use it, supervisors and
# admins manage it; global: everyone uses it, admins manage it.
SCOPES = ("personal", "team", "global")


class Macro(db.Model):
    """A named reply template (sandboxed Jinja) and the actions applied with it."""

    __tablename__ = "macros"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    template: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    # A list of {"type": ..., ...} as macros.parse_actions accepts.
    actions: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    scope: so.Mapped[str] = so.mapped_column(sa.String(16), default="personal")
    # The team's queue (team scope only).
    queue_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("queues.id", ondelete="CASCADE"),
                                                          index=True)
    # Who wrote it; personal macros are visible to them alone.
    owner_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("agents.id"), index=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    queue = so.relationship("Queue")
    owner = so.relationship("Agent")


class MacroUsage(db.Model):
    """How many conversations an agent has applied a macro to (ranks the picker)."""

    __tablename__ = "macro_usage"

    macro_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("macros.id", ondelete="CASCADE"), primary_key=True)
    agent_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    count: so.Mapped[int] = so.mapped_column(default=0)
    last_used_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
