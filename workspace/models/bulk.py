"""Bulk actions: one change applied to many conversations by a job, with a result per conversation."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow

# queued -> running -> finished (or failed when the job gave up); undoing ->
# undone once its non-sending changes were put back.
BULK_STATES = ("queued", "running", "finished", "failed", "undoing", "undone")
# A conversation's result: pending until the job reaches it; undone once an undo put it back.
ITEM_RESULTS = ("pending", "done", "skipped", "failed", "undone")


class BulkAction(db.Model):
    """A macro or a single change applied to a set of conversations as one job."""

    __tablename__ = "bulk_actions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    agent_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("agents.id"), index=True)
    # What the agent chose: macro, reply, assign, tags, move or status.
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    macro_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("macros.id", ondelete="SET NULL"))
    # The reply template and the action list, frozen when the bulk action was made.
    template: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    actions: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    # How the conversations were chosen (ids, or a queue filter), for the record.
    selection: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    # Whether conversations another agent is replying to (soft lock) are changed anyway.
    include_locked: so.Mapped[bool] = so.mapped_column(default=False)
    state: so.Mapped[str] = so.mapped_column(sa.String(16), default="queued")
    total: so.Mapped[int] = so.mapped_column(default=0)
    done: so.Mapped[int] = so.mapped_column(default=0)
    skipped: so.Mapped[int] = so.mapped_column(default=0)
    failed: so.Mapped[int] = so.mapped_column(default=0)
    error: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    finished_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    undone_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)

    agent = so.relationship("Agent")
    macro = so.relationship("Macro")


class BulkItem(db.Model):
    """One conversation of a bulk action: its result, and what to put back on undo."""

    __tablename__ = "bulk_items"
    __table_args__ = (sa.Index("ix_bulk_items_progress", "bulk_id", "result", "position"),)

    bulk_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("bulk_actions.id", ondelete="CASCADE"),
                                               primary_key=True)
    conversation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("conversations.id", ondelete="CASCADE"),
                                                       primary_key=True)
    # The order the job works in (the selection's order).
    position: so.Mapped[int] = so.mapped_column()
    result: so.Mapped[str] = so.mapped_column(sa.String(16), default="pending")
    reason: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    # The changed fields' values before (for undo), and the conversation's
    # updated_at right after, so undo can tell whether someone changed it since.
    before: so.Mapped[Optional[dict]] = so.mapped_column(sa.JSON)
    changed_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    # The reply this bulk action sent, if any (a retry never stores a second one).
    message_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("messages.id", ondelete="SET NULL"))
