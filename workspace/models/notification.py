"""Notifications for agents, the devices their pushes go to, and what each agent wants pushed."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow

# What an agent is told about: a conversation assigned to them, a mention in a note, a customer's reply on
# their conversation, an SLA about to breach on theirs, an urgent conversation in a queue they work (or are
# on call for), an incident opened (supervisors), and a mention that reached nobody (its note's author).
NOTIFICATION_KINDS = ("assigned", "mention", "reply", "sla", "urgent", "incident", "mention_refused")


class Notification(db.Model):
    """One thing one agent is told about, read or not.

    `key` names the event behind it (`mention:<message id>`, `sla:<conversation id>:<due at>`, ...), unique
    per agent, so a job that runs twice records it once.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        sa.UniqueConstraint("agent_id", "key", name="uq_notifications_agent_key"),
        # The list (newest first) and the unread count read a range of this.
        sa.Index("ix_notifications_agent_read", "agent_id", "read_at", "id"),
        # The push jobs' claim and the periodic run's look for what waits to be pushed.
        sa.Index("ix_notifications_unpushed", "pushed_at", "agent_id"),
        # A conversation's notifications: on-call escalation, and deleting a conversation.
        sa.Index("ix_notifications_conversation", "conversation_id", "kind"),
        # The periodic on-call escalation: unread urgent ones older than the delay.
        sa.Index("ix_notifications_kind_unread", "kind", "read_at", "created_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    agent_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("agents.id", ondelete="CASCADE"))
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    key: so.Mapped[str] = so.mapped_column(sa.String(120))
    conversation_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("conversations.id", ondelete="CASCADE"))
    incident_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("incidents.id", ondelete="CASCADE"))
    # Who caused it (the assigning or mentioning agent), when someone did.
    actor_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("agents.id", ondelete="SET NULL"))
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    read_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    # When a push for it was decided: sent, collapsed into another, or held back (quiet hours, preferences).
    pushed_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)


class PushSubscription(db.Model):
    """One device's Web Push subscription (RFC 8030 endpoint and RFC 8291 keys), owned by one agent."""

    __tablename__ = "push_subscriptions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    agent_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    endpoint: so.Mapped[str] = so.mapped_column(sa.String(2048), unique=True)
    p256dh: so.Mapped[str] = so.mapped_column(sa.String(200))
    auth: so.Mapped[str] = so.mapped_column(sa.String(100))
    # What the agent calls the device ("Phone"), or the browser's own description.
    label: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    last_sent_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    last_error: so.Mapped[Optional[str]] = so.mapped_column(sa.String(300))


class NotificationSettings(db.Model):
    """What one agent wants pushed to their devices; an agent without a row gets the defaults.

    `kinds` and `priorities` list what is pushed; `muted_queue_ids` the queues never pushed; quiet hours run
    from `quiet_start` to `quiet_end` ("22:00" to "07:00", past midnight allowed) in `time_zone`.
    """

    __tablename__ = "notification_settings"

    agent_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    kinds: so.Mapped[list] = so.mapped_column(sa.JSON)
    priorities: so.Mapped[list] = so.mapped_column(sa.JSON)
    muted_queue_ids: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    time_zone: so.Mapped[str] = so.mapped_column(sa.String(64), default="UTC")
    quiet_start: so.Mapped[Optional[str]] = so.mapped_column(sa.String(5))
    quiet_end: so.Mapped[Optional[str]] = so.mapped_column(sa.String(5))
    # Push only while the agent has no live console open.
    only_when_away: so.Mapped[bool] = so.mapped_column(default=False)
    # Put the customer's words in the push (off: the least needed, a title and a link).
    include_text: so.Mapped[bool] = so.mapped_column(default=False)
    # A Slack-compatible incoming webhook that gets the same notifications as the devices (https, public).
    webhook_url: so.Mapped[Optional[str]] = so.mapped_column(sa.String(2048))
    # Mail the same notifications too (off by default), to `email_address` or, when that is None, the agent's own.
    email_enabled: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    email_address: so.Mapped[Optional[str]] = so.mapped_column(sa.String(320))
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
