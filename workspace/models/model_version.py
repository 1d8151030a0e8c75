"""Trained classifier versions and the corrections agents teach them with."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow


class ModelVersion(db.Model):
    """One trained classifier: its artifact, metrics and whether it is the active one."""

    __tablename__ = "model_versions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    version: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    # File name of the signed artifact inside the model directory.
    artifact: so.Mapped[str] = so.mapped_column(sa.String(255))
    active: so.Mapped[bool] = so.mapped_column(default=False, index=True)
    source: so.Mapped[str] = so.mapped_column(sa.String(32))  # file, conversations, retrain
    metrics: so.Mapped[dict] = so.mapped_column(sa.JSON)
    labels: so.Mapped[list] = so.mapped_column(sa.JSON)
    training_size: so.Mapped[int] = so.mapped_column()
    library_versions: so.Mapped[dict] = so.mapped_column(sa.JSON)
    # Why it was (or was not) promoted, in words.
    decision: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    trained_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    promoted_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)


class Correction(db.Model):
    """An agent moved a conversation to another queue: a labelled example for the classifier."""

    __tablename__ = "corrections"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    conversation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("conversations.id"), index=True)
    from_queue_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("queues.id"))
    to_queue_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("queues.id"))
    agent_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("agents.id"))
    # The model input at the time (subject, text, channel), so training needs no joins.
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    # Set once a training run has used it; retraining counts the unused ones.
    used_in_version: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)

    to_queue = so.relationship("Queue", foreign_keys=[to_queue_id])
