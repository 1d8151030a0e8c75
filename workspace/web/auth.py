"""Who is calling: console sessions and API bearer tokens, roles, CSRF (signing in: services/signin/)."""

import functools
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, g, request, url_for
from flask_login import current_user

from workspace.errors import Forbidden, Unauthorized
from workspace.extensions import csrf, db, login
from workspace.models import Agent, ApiToken, has_role, hash_token

# State-changing methods: a browser session must prove them with a CSRF token.
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def agent_for_token(token: str | None) -> Agent | None:
    """Return the active agent a bearer token belongs to, or None."""
    if not token:
        return None
    return db.session.scalar(
        sa.select(Agent).join(ApiToken).where(ApiToken.token_hash == hash_token(token), Agent.active)
    )


def _bearer_agent() -> Agent | None:
    """The agent of this request's bearer token; raises 401 for a malformed or unknown one."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send an API token as 'Authorization: Bearer <token>'")
    agent = agent_for_token(token.strip())
    if agent is None:
        raise Unauthorized("the API token is unknown or revoked", code="invalid_token")
    return agent


def agent_required(view):
    """Require a signed-in agent: a bearer token, or a console session (with CSRF on writes)."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        agent = _bearer_agent()
        if agent is None:
            if not current_user.is_authenticated:
                raise Unauthorized("sign in, or send an API token as 'Authorization: Bearer <token>'")
            if request.method in UNSAFE_METHODS:
                csrf.protect()
            agent = current_user._get_current_object()
        g.agent = agent
        return view(*args, **kwargs)

    return wrapped


def role_required(role: str):
    """Require a signed-in agent (see agent_required) holding at least `role`."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not has_role(g.agent, role):
                raise Forbidden(f"this needs the {role} role")
            return view(*args, **kwargs)

        return agent_required(wrapped)

    return decorate


def safe_next(target: str | None) -> str:
    """Only follow a relative redirect after sign-in (never to another site)."""
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("console.console")


@login.user_loader
def load_agent(user_id: str) -> Agent | None:
    """Load a session's agent; a stale session version (signed out everywhere) loads nobody."""
    agent_id, _, version = user_id.partition(":")
    if not agent_id.isdigit() or not version.isdigit():
        return None
    agent = db.session.get(Agent, int(agent_id))
    if agent is None or not agent.active or agent.session_version != int(version):
        return None
    return agent


def init_app(app: Flask) -> None:
    """Bind sessions and CSRF to the app."""
    login.init_app(app)
    login.login_view = "console.login"
    csrf.init_app(app)
