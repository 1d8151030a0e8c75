"""Conversation merges and splits: which messages moved where, and what to put back on undo."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow

# merge: the source (a duplicate) folded into the target; split: messages of the source moved to a new target.
MERGE_KINDS = ("merge", "split")


class ConversationMerge(db.Model):
    """One merge or split, with the messages it moved and the state it replaced (see services.conversations.merging)."""

    __tablename__ = "conversation_merges"
    __table_args__ = (sa.Index("ix_conversation_merges_source", "source_id", "undone_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(8))
    source_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("conversations.id"))
    target_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("conversations.id"), index=True)
    agent_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("agents.id"))
    # Every message moved, including posts that followed a merged duplicate afterwards.
    message_ids: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    # The fields of source and target the merge changed, as they were: {"source": {...}, "target": {...}}.
    before: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    undone_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    undone_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("agents.id"))
