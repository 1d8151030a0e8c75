"""What the email channel keeps beside messages: attachments, stopped addresses and suspended mail."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow


class EmailAttachment(db.Model):
    """A file attached to (or shown inline in) a received email, as sent; never unpacked."""

    __tablename__ = "email_attachments"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    message_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    filename: so.Mapped[str] = so.mapped_column(sa.String(255))
    # What the sender said it is, and what its first bytes show (the one served).
    declared_type: so.Mapped[str] = so.mapped_column(sa.String(100))
    content_type: so.Mapped[str] = so.mapped_column(sa.String(100))
    size: so.Mapped[int]
    # For inline images the HTML refers to as cid:<content_id>.
    content_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    inline: so.Mapped[bool] = so.mapped_column(default=False)
    # None when the file was over the size limit: its name and size are still shown. Deferred: listing a
    # thread's attachments never reads their bytes.
    data: so.Mapped[Optional[bytes]] = so.mapped_column(sa.LargeBinary, deferred=True)

    message = so.relationship("Message", back_populates="attachments")


class EmailSuppression(db.Model):
    """An address no mail is sent to any more (it bounced for good), with the reason."""

    __tablename__ = "email_suppressions"
    __table_args__ = (sa.UniqueConstraint("channel_id", "address", name="uq_email_suppressions_address"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    channel_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"))
    address: so.Mapped[str] = so.mapped_column(sa.String(254))
    reason: so.Mapped[str] = so.mapped_column(sa.String(500))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class SuspendedEmail(db.Model):
    """Mail held back from the queues (a sender flooding, or spooled mail that could not be read), kept whole
    for an admin to release or drop."""

    __tablename__ = "suspended_emails"
    __table_args__ = (sa.UniqueConstraint("channel_id", "message_key", name="uq_suspended_emails_message"),
                      sa.Index("ix_suspended_emails_channel", "channel_id", "id"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    channel_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"))
    message_key: so.Mapped[str] = so.mapped_column(sa.String(255))
    sender: so.Mapped[str] = so.mapped_column(sa.String(254))
    subject: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    reason: so.Mapped[str] = so.mapped_column(sa.String(500))
    raw: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class SpooledEmail(db.Model):
    """A message the SMTP listener accepted (answered 250) and a worker has yet to read and store.

    One row per channel the envelope was addressed to. The row is deleted in the
    transaction that stores the message, so it is read exactly once; while it
    exists the sweeper makes sure a job is on its way (see services.intake.spool).
    """

    __tablename__ = "spooled_emails"
    # Rows are deleted once read: without AUTOINCREMENT SQLite would hand an emptied spool's ids out again,
    # and an id names one received message (its job, its suspended copy) for good.
    __table_args__ = {"sqlite_autoincrement": True}

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    channel_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"))
    # The envelope: MAIL FROM ("" for a bounce) and the RCPT TO addresses of this channel.
    sender: so.Mapped[str] = so.mapped_column(sa.String(254), default="")
    recipients: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    raw: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary)
    received_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)
    # Failed reads so far and the last one's error: past SPOOL_ATTEMPTS the message is suspended for an admin.
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    last_error: so.Mapped[Optional[str]] = so.mapped_column(sa.String(500))
