"""Who is calling: API tokens (sessions join when the console signs people in)."""

import functools

import sqlalchemy as sa
from flask import g, request

from .errors import Unauthorized
from .extensions import db
from .models import Agent, ApiToken, hash_token


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
