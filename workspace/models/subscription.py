"""Outbound event subscriptions (an outside URL and the events it wants) and each delivery to one."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow

# The events a URL can subscribe to ("ping" is what the test button sends).
EVENTS = ("conversation.created", "conversation.updated", "conversation.resolved", "message.created",
          "automation.fired", "csat.received", "incident.opened", "ping")
DELIVERY_STATES = ("pending", "delivered", "failed")


class Subscription(db.Model):
    """An outside URL that receives the events it subscribed to, signed with its own secret."""

    __tablename__ = "subscriptions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    url: so.Mapped[str] = so.mapped_column(sa.String(2048))
    events: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    secret: so.Mapped[str] = so.mapped_column(sa.String(64))
    enabled: so.Mapped[bool] = so.mapped_column(default=True)
    # Failed attempts since the last success; at the configured limit the subscription is disabled.
    consecutive_failures: so.Mapped[int] = so.mapped_column(default=0)
    disabled_reason: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class EventDelivery(db.Model):
    """One event for one subscription: its body as sent on every attempt, and how the attempts went."""

    __tablename__ = "event_deliveries"
    # The sweeper looks for deliveries still pending: a partial index holds only those, however long the log.
    __table_args__ = (sa.Index("ix_event_deliveries_subscription", "subscription_id", "id"),
                      sa.Index("ix_event_deliveries_pending", "created_at", sqlite_where=sa.text("state = 'pending'"),
                               postgresql_where=sa.text("state = 'pending'")))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    subscription_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("subscriptions.id", ondelete="CASCADE"))
    event: so.Mapped[str] = so.mapped_column(sa.String(64))
    payload: so.Mapped[dict] = so.mapped_column(sa.JSON)
    state: so.Mapped[str] = so.mapped_column(sa.String(16), default="pending")
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    response_status: so.Mapped[Optional[int]] = so.mapped_column()
    error: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    delivered_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)

    subscription = so.relationship("Subscription")
