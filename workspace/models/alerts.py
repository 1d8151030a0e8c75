"""What engineering is told: the admins' alert settings, and each incident's Slack posts and ticket."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow

# The one row of AlertSettings.
ALERT_SETTINGS_ID = 1


class AlertSettings(db.Model):
    """The admins' choices (one row): where incidents are posted, whether they open a ticket, and who gets the
    weekly report by email when (UTC), with the last week sent so a week is sent once."""

    __tablename__ = "alert_settings"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # A Slack-compatible incoming webhook (a secret: whoever holds it may post to the channel).
    slack_webhook_url: so.Mapped[Optional[str]] = so.mapped_column(sa.String(2048))
    incident_tickets: so.Mapped[bool] = so.mapped_column(default=False)
    report_enabled: so.Mapped[bool] = so.mapped_column(default=False)
    report_recipients: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    report_weekday: so.Mapped[int] = so.mapped_column(default=0)  # 0 Monday … 6 Sunday
    report_hour: so.Mapped[int] = so.mapped_column(default=8)
    # The ISO week (2026-W48) of the last report sent, and when.
    report_last_week: so.Mapped[Optional[str]] = so.mapped_column(sa.String(10))
    report_last_sent_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class IncidentAlert(db.Model):
    """How one incident was told to engineering: its size when last posted to Slack, and its ticket."""

    __tablename__ = "incident_alerts"

    incident_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("incidents.id", ondelete="CASCADE"),
                                                   primary_key=True)
    # Conversations the incident held when last posted (0: never posted); it is posted again when it grows.
    posted_size: so.Mapped[int] = so.mapped_column(default=0)
    posts: so.Mapped[int] = so.mapped_column(default=0)
    last_posted_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    ticket_id: so.Mapped[Optional[int]] = so.mapped_column(sa.BigInteger)
    ticket_url: so.Mapped[Optional[str]] = so.mapped_column(sa.String(2048))
    last_error: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
