"""Who is calling: API tokens (sessions join when the console signs people in)."""

import functools

import sqlalchemy as sa
from flask import g, request

from .errors import Forbidden, Unauthorized
from .extensions import db
from .models import ROLES, Agent, ApiToken, hash_token


def agent_for_token(token: str | None) -> Agent | None:
    """Return the active agent a bearer token belongs to, or None."""
    if not token:
        return None
    return db.session.scalar(
        sa.select(Agent).join(ApiToken).where(ApiToken.token_hash == hash_token(token), Agent.active)
    )


def token_required(view):
    """Require `Authorization: Bearer <token>`; the agent lands in g.agent."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("send an API token as 'Authorization: Bearer <token>'")
        agent = agent_for_token(token.strip())
        if agent is None:
            raise Unauthorized("the API token is unknown or revoked", code="invalid_token")
        g.agent = agent
        return view(*args, **kwargs)

    return wrapped


def has_role(agent: Agent, role: str) -> bool:
    """Tell whether an agent holds a role or a higher one (agent < supervisor < admin)."""
    return ROLES.index(agent.role) >= ROLES.index(role)


def role_required(role: str):
    """Require a signed-in agent (see token_required) holding at least `role`."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not has_role(g.agent, role):
                raise Forbidden(f"this needs the {role} role")
            return view(*args, **kwargs)

        return token_required(wrapped)

    return decorate
