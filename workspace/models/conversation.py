"""Conversations: the unit of work."""

import enum
from datetime import UTC, datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow


class Priority(enum.IntEnum):
    """Priority levels; the lower the value, the sooner it is worked."""

    URGENT = 0
    HIGH = 1
    NORMAL = 2
    LOW = 3

    @property
    def label(self) -> str:
        """The level's name as the API spells it."""
        return self.name.lower()

    @classmethod
    def parse(cls, label: str) -> "Priority":
        """Return the level named by an API label such as 'urgent'."""
        return cls[label.upper()]


# The due time of a conversation that owes the customer nothing (answered, or
# not routed yet). A real, far-future value rather than NULL keeps the queue
# order and its cursor exact: NULLs sort first on SQLite and last on
# PostgreSQL, and make row-value comparisons NULL, which silently drops rows.
NOT_DUE = datetime(9999, 12, 31, tzinfo=UTC)

STATUSES = ("new", "open", "pending", "resolved", "escalated", "spam")
# Statuses a conversation can be in while an agent still owes work on it.
ACTIVE_STATUSES = ("new", "open", "pending", "escalated")


class Conversation(db.Model):
    """A thread of messages with one customer, routed into one queue."""

    __tablename__ = "conversations"
    __table_args__ = (
        # The queue page: a queue's conversations by status, in work order. With
        # assignee_id it also covers the live counts (open, unassigned, at risk):
        # at 1M rows those took ~180 ms reading the table, ~15 ms from the index.
        sa.Index(
            "ix_conversations_queue_order",
            "queue_id", "status", "priority", "sla_due_at", "created_at", "id", "assignee_id",
        ),
        sa.Index("ix_conversations_thread", "channel_id", "thread_key"),
        sa.Index("ix_conversations_author_recent", "author_id", "last_message_at"),
        sa.Index("ix_conversations_status_updated", "status", "updated_at"),
        # The SLA watcher's range scan: conversations whose clock needs a look by now.
        sa.Index("ix_conversations_sla_check", "sla_check_at"),
        # The dashboard's at-risk and breached counts and lists: only those rows are read.
        sa.Index("ix_conversations_sla_status", "sla_status", "status", "queue_id"),
        # The dashboard's oldest wait per queue and its drill-down: the first entry of a queue's open rows.
        sa.Index("ix_conversations_queue_waiting", "queue_id", "status", "waiting_since"),
        # The volume and negative-sentiment drill-downs: a queue's conversations of one bucket.
        sa.Index("ix_conversations_queue_recent", "queue_id", "last_message_at"),
        # Agents' loads on the dashboard and their drill-downs: an agent's conversations by status, in work order.
        sa.Index("ix_conversations_assignee_order", "assignee_id", "status", "priority", "sla_due_at", "created_at",
                 "id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    channel_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("channels.id"))
    author_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("authors.id"))
    # Null only while status is "new" (not yet routed).
    queue_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("queues.id"))
    assignee_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("agents.id"))
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="new")
    priority: so.Mapped[int] = so.mapped_column(sa.SmallInteger, default=Priority.NORMAL)
    priority_score: so.Mapped[float] = so.mapped_column(default=0.0)
    subject: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    # The sender's thread id (a forum topic, a tweet thread), if it gave one.
    thread_key: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    tags: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    # A private thread on its platform (a Discourse personal message): agents
    # see the flag, since its text must not be quoted in public.
    private: so.Mapped[bool] = so.mapped_column(default=False)
    explanation: so.Mapped[Optional[dict]] = so.mapped_column(sa.JSON)
    sla_due_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=NOT_DUE)
    # When the customer's oldest unanswered post arrived; the SLA runs from it.
    waiting_since: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    last_message_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # The newest inbound message routing has seen; routing again without a
    # newer one is a no-op, which makes the routing job idempotent.
    routed_message_id: so.Mapped[Optional[int]] = so.mapped_column()
    routed_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    # Where routing first put it, and the model's top label then: measured
    # against the queue agents leave it in, they give routing accuracy.
    routed_queue_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("queues.id"))
    predicted_queue: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))
    # The language of the newest routed post (ISO 639-1): shown to agents, a search filter (lang:).
    language: so.Mapped[Optional[str]] = so.mapped_column(sa.String(8), index=True)
    resolved_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    first_reply_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    # A snoozed conversation is pending until this time, then reopens (macros' snooze action).
    snoozed_until: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime, index=True)
    # The SLA clocks running on it (see workspace/services/service_levels/clocks.py):
    # {"first_reply" | "next_reply" | "resolution": {"started_at", "due_at",
    # "at_risk_at", "minutes", "calendar_id", "state": "ok" | "at_risk" | "breached"}}.
    sla_clock: so.Mapped[Optional[dict]] = so.mapped_column(sa.JSON)
    # The worst state of its running clocks (None when none runs): what the
    # console's badge and the dashboard show.
    sla_status: so.Mapped[Optional[str]] = so.mapped_column(sa.String(16))
    # When the watcher should next look at it (NOT_DUE: nothing will change).
    sla_check_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=NOT_DUE)
    # Set while pending on the customer or escalated: the clocks are paused since then.
    sla_paused_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    # When the current assignee got it (an untouched one has no reply of theirs since).
    assigned_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    # Set while this conversation is a duplicate merged into another: its later posts follow there.
    merged_into_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("conversations.id"))
    # Lets SQLite return the ids of a multi-row INSERT in order, so a batch of
    # new conversations is one statement rather than one per row.
    _sentinel: so.Mapped[Optional[int]] = so.orm_insert_sentinel("insert_sentinel")

    channel = so.relationship("Channel")
    author = so.relationship("Author")
    queue = so.relationship("Queue", foreign_keys=[queue_id])
    routed_queue = so.relationship("Queue", foreign_keys=[routed_queue_id])
    assignee = so.relationship("Agent")
    merged_into = so.relationship("Conversation", remote_side=[id])
    messages: so.Mapped[list["Message"]] = so.relationship(  # noqa: F821
        back_populates="conversation", order_by="Message.id"
    )


# Session.info key: ids of conversations whose status became "resolved" in the current transaction.
RESOLVING = "resolving_conversations"


@sa.event.listens_for(Conversation.status, "set", active_history=True)
def _note_resolving(conversation: Conversation, value, old, initiator) -> None:
    """Remember a conversation that becomes resolved (not one already resolved), for the transaction's events."""
    session = so.object_session(conversation)
    if value == "resolved" and old != "resolved" and session is not None and conversation.id is not None:
        session.info.setdefault(RESOLVING, set()).add(conversation.id)


@sa.event.listens_for(so.Session, "after_commit")
@sa.event.listens_for(so.Session, "after_rollback")
def _forget_resolving(session: so.Session) -> None:
    """A finished transaction's resolutions were told (or undone): the next one starts with none."""
    session.info.pop(RESOLVING, None)
