"""Who is calling: console sessions (email + password) and API bearer tokens, roles, CSRF."""

import functools

import sqlalchemy as sa
from flask import Flask, current_app, g, request
from flask_login import current_user
from werkzeug.security import check_password_hash

from workspace.errors import Forbidden, SwitchboardError, Unauthorized
from workspace.extensions import csrf, db, login
from workspace.infra.broker import redis_client
from workspace.models import Agent, ApiToken, has_role, hash_token
from workspace.web.validation import check_documented_request

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
        if not getattr(view, "checks_role", False):  # a role is checked first, then the request
            check_documented_request()
        return view(*args, **kwargs)

    return wrapped


def role_required(role: str):
    """Require a signed-in agent (see agent_required) holding at least `role`."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not has_role(g.agent, role):
                raise Forbidden(f"this needs the {role} role")
            check_documented_request()
            return view(*args, **kwargs)

        wrapped.checks_role = True
        return agent_required(wrapped)

    return decorate


def authenticate(email: str, password: str, address: str) -> Agent:
    """Check an email and password, refusing when too many attempts were made recently.

    Args:
        email: as typed; compared case-insensitively.
        password: as typed.
        address: the client's address, for the per-address limit.

    Returns:
        The agent, when the password is right and the agent is active.
    """
    config = current_app.config
    keys = {f"login:email:{email.strip().lower()}": config["LOGIN_ATTEMPTS_PER_EMAIL"],
            f"login:addr:{address}": config["LOGIN_ATTEMPTS_PER_ADDRESS"]}
    redis = redis_client()
    with redis.pipeline() as pipe:
        for key in keys:
            # Start the window on the first attempt (SET NX keeps an existing one), then count.
            pipe.set(key, 0, ex=config["LOGIN_WINDOW_SECONDS"], nx=True)
            pipe.incr(key)
        counts = pipe.execute()[1::2]
    if any(count > limit for count, limit in zip(counts, keys.values(), strict=True)):
        raise SwitchboardError("too many sign-in attempts; wait a few minutes", code="too_many_attempts",
                               status=429)
    agent = db.session.scalar(sa.select(Agent).where(Agent.email == email.strip().lower()))
    if agent is None or not agent.password_hash or not check_password_hash(agent.password_hash, password):
        raise Unauthorized("wrong email or password", code="bad_credentials")
    if not agent.active:
        raise Forbidden("this account is deactivated", code="deactivated")
    redis.delete(f"login:email:{email.strip().lower()}")
    return agent


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
