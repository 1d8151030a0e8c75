"""Channels: the sources posts come from."""

import secrets
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow


def new_secret() -> str:
    """Return a fresh webhook signing secret."""
    return secrets.token_hex(32)


class Channel(db.Model):
    """A source of posts with its adapter kind and webhook secret."""

    __tablename__ = "channels"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    kind: so.Mapped[str] = so.mapped_column(sa.String(32), default="native")
    secret: so.Mapped[str] = so.mapped_column(sa.String(128), default=new_secret)
    enabled: so.Mapped[bool] = so.mapped_column(default=True)
    # Per-kind settings (each kind's SETTINGS in workspace/channels/): a Discourse site and API
    # key, an X consumer secret and account id, a callback URL for replies.
    settings: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    # The automatic first reply to each new conversation (services/acknowledgements.py):
    # {"enabled", "in_hours", "out_of_hours"}; None: never sent.
    acknowledgement: so.Mapped[Optional[dict]] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
