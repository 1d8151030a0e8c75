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


# What a token may do (an agent's session may do all its role allows). webhooks is what a platform
# integration needs: read channels (webhook path and secret), change their settings or rotate their secret.
SCOPE_MEANINGS = {
    "read": "read the API and open a live socket",
    "write": "act: reply, note, assign, change conversations, type in the console",
    "admin": "the admin endpoints and /metrics (admins only)",
    "webhooks": "read channels and change their settings or secret (admins only)",
}
TOKEN_SCOPES = tuple(SCOPE_MEANINGS)
# Scopes only an admin's token may carry (they reach admin-only endpoints).
ADMIN_SCOPES = frozenset({"admin", "webhooks"})


def scopes_allowed(agent: "Agent") -> tuple[str, ...]:
    """The scopes a token of this agent may carry: never more than the agent's own rights."""
    return tuple(scope for scope in TOKEN_SCOPES if scope not in ADMIN_SCOPES or has_role(agent, "admin"))


class ApiToken(db.Model):
    """A bearer token for the REST API; only its hash is stored."""

    __tablename__ = "api_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    agent_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("agents.id"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # Written at most once a minute per token (see web/auth.py), so a busy token costs no write per request.
    last_used_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    # Space-separated, from TOKEN_SCOPES.
    scopes: so.Mapped[str] = so.mapped_column(sa.String(64), default=" ".join(TOKEN_SCOPES))
    expires_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    # Kept (not deleted) so the listing and the audit log can still name a revoked token.
    revoked_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)

    agent: so.Mapped[Agent] = so.relationship(back_populates="tokens")

    @property
    def scope_set(self) -> frozenset[str]:
        """The token's scopes, as a set."""
        return frozenset(self.scopes.split())

    def expired(self, now: datetime) -> bool:
        """Tell whether the token's expiry has passed."""
        return self.expires_at is not None and self.expires_at <= now

    @classmethod
    def issue(cls, agent: Agent, name: str, scopes=None,
              expires_at: Optional[datetime] = None) -> tuple["ApiToken", str]:
        """Create a token for an agent; returns the row and the only copy of the secret.

        Args:
            agent: whose token it is.
            name: what it is for.
            scopes: from TOKEN_SCOPES (checked by the caller against scopes_allowed); None gives all the agent may have.
            expires_at: when it stops working; None for never.
        """
        secret = "sb_" + secrets.token_urlsafe(32)
        chosen = scopes_allowed(agent) if scopes is None else [s for s in TOKEN_SCOPES if s in set(scopes)]
        return cls(agent=agent, name=name, token_hash=hash_token(secret), scopes=" ".join(chosen),
                   expires_at=expires_at), secret
