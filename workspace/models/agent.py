"""Agents (people who sign in) and their API tokens."""

import hashlib
import secrets
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models.base import UTCDateTime, utcnow

ROLES = ("agent", "supervisor", "admin")


def has_role(agent: "Agent", role: str) -> bool:
    """Tell whether an agent holds a role or a higher one (agent < supervisor < admin)."""
    return ROLES.index(agent.role) >= ROLES.index(role)

# Which agents work which queues (agents see only theirs; supervisors see all).
queue_members = sa.Table(
    "queue_members", db.metadata,
    sa.Column("queue_id", sa.ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("agent_id", sa.ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    # Most open conversations automatic assignment gives the agent in this queue (None: no queue limit).
    sa.Column("capacity", sa.Integer),
    # Round robin hands the next one to the member whose last assignment here is oldest.
    sa.Column("last_assigned_at", UTCDateTime),
)


class Agent(db.Model):
    """A person working in Switchboard: agent, supervisor or admin."""

    __tablename__ = "agents"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    role: so.Mapped[str] = so.mapped_column(sa.String(16), default="agent")
    password_hash: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    # Part of every session cookie; bumping it signs the agent out everywhere.
    session_version: so.Mapped[int] = so.mapped_column(default=1)
    # Most open conversations automatic assignment gives the agent across all queues.
    capacity: so.Mapped[int] = so.mapped_column(default=10, server_default="10")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # TOTP second factor (workspace/services/signin/two_factor.py): the base32 secret, set while enrolling
    # and kept once confirmed; the time it was confirmed (None: no second factor asked); and the last
    # 30-second step whose code was accepted, so one code never works twice.
    totp_secret: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))
    totp_enabled_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    totp_last_step: so.Mapped[Optional[int]] = so.mapped_column(sa.BigInteger)

    tokens: so.Mapped[list["ApiToken"]] = so.relationship(back_populates="agent")
    queues: so.Mapped[list["Queue"]] = so.relationship(  # noqa: F821
        secondary=queue_members, back_populates="members", order_by="Queue.name")

    # Flask-Login's user interface.
    @property
    def is_authenticated(self) -> bool:
        """Every loaded agent is authenticated (anonymous users are not Agents)."""
        return True

    @property
    def is_active(self) -> bool:
        """Deactivated agents cannot sign in."""
        return self.active

    @property
    def is_anonymous(self) -> bool:
        """Agents are never anonymous."""
        return False

    def get_id(self) -> str:
        """The session's user id: agent id and session version, so bumping the version ends sessions."""
        return f"{self.id}:{self.session_version}"


def hash_token(token: str) -> str:
    """Return the stored form of an API token (tokens are random, so SHA-256 suffices)."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(db.Model):
    """A bearer token for the REST API; only its hash is stored."""

    __tablename__ = "api_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    agent_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("agents.id"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    last_used_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)

    agent: so.Mapped[Agent] = so.relationship(back_populates="tokens")

    @classmethod
    def issue(cls, agent: Agent, name: str) -> tuple["ApiToken", str]:
        """Create a token for an agent; returns the row and the only copy of the secret."""
        secret = "sb_" + secrets.token_urlsafe(32)
        return cls(agent=agent, name=name, token_hash=hash_token(secret)), secret
