"""Who is calling: console sessions and API bearer tokens, roles, CSRF (signing in: services/signin/)."""

import functools
from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, g, request, url_for
from flask_login import current_user

from workspace.errors import Forbidden, Unauthorized
from workspace.extensions import csrf, db, login
from workspace.models import Agent, ApiToken, has_role, hash_token, utcnow
from workspace.web.validation import check_documented_request

# State-changing methods: a browser session must prove them with a CSRF token.
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


# last_used_at is written at most this often per token: a busy token costs one write a minute, not one a request.
LAST_USED_EVERY = timedelta(minutes=1)
# Methods that only read; anything else through a token needs the `write` scope.
READ_METHODS = ("GET", "HEAD", "OPTIONS")


def token_for_secret(secret: str | None) -> ApiToken:
    """Return the live token a bearer secret belongs to, noting its use; 401 when unknown, revoked or expired.

    Args:
        secret: the bearer token as sent.

    Returns:
        The token, whose agent is active.
    """
    row = db.session.scalar(sa.select(ApiToken).options(so.joinedload(ApiToken.agent))
                            .where(ApiToken.token_hash == hash_token(secret or "")))  # one query, as before
    if row is None or row.revoked_at is not None or not row.agent.active:
        raise Unauthorized("the API token is unknown or revoked", code="invalid_token")
    now = utcnow()
    if row.expired(now):
        raise Unauthorized("the API token has expired", code="token_expired")
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        # Conditional, so concurrent requests of one token write it once; committed now, so a view that
        # fails and rolls back still leaves the use recorded.
        db.session.execute(sa.update(ApiToken).where(
            ApiToken.id == row.id,
            sa.or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - LAST_USED_EVERY),
        ).values(last_used_at=now))
        db.session.commit()
    return row


def _bearer_token() -> ApiToken | None:
    """The token of this request's Authorization header; raises 401 for a malformed, unknown or dead one."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("send an API token as 'Authorization: Bearer <token>'")
    return token_for_secret(secret.strip())


def require_scope(*scopes: str) -> None:
    """Refuse (403, naming the scope) a token-authenticated request whose token holds none of `scopes`.

    A console session is not limited by scopes: it has all its agent's rights.
    """
    token = g.get("api_token")
    if token is not None and not token.scope_set & set(scopes):
        raise Forbidden(f"this API token lacks the {' or '.join(scopes)} scope", code="insufficient_scope")


def _method_scope() -> str:
    return "read" if request.method in READ_METHODS else "write"


def _authenticate_request() -> None:
    """Set g.agent (and g.api_token for a bearer token), or raise 401; sessions prove writes with CSRF."""
    token = _bearer_token()
    if token is not None:
        g.api_token, g.agent = token, token.agent
        return
    if not current_user.is_authenticated:
        raise Unauthorized("sign in, or send an API token as 'Authorization: Bearer <token>'")
    if request.method in UNSAFE_METHODS:
        csrf.protect()
    g.api_token, g.agent = None, current_user._get_current_object()


def _guarded(view, role: str | None, scopes: tuple[str, ...] | None):
    """Wrap a view in the one order of checks: who is calling, their role, the token's scope, the document."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        _authenticate_request()
        if role is not None and not has_role(g.agent, role):
            raise Forbidden(f"this needs the {role} role")
        require_scope(*(scopes or (("admin",) if role == "admin" else (_method_scope(),))))
        check_documented_request()
        return view(*args, **kwargs)

    return wrapped


def agent_required(view):
    """Require a signed-in agent: a bearer token holding `read` (GET) or `write` (anything else), or a console
    session (with CSRF on writes); then the request must be as its operation in the API document says."""
    return _guarded(view, None, None)


def role_required(role: str, scopes: tuple[str, ...] | None = None):
    """Require a signed-in agent (see agent_required) holding at least `role`, then a documented request.

    Args:
        role: the least role that may call the view.
        scopes: the token scopes any one of which lets a token in; by default `admin` for admin views, else
            `read` or `write` by method.
    """
    return functools.partial(_guarded, role=role, scopes=scopes)


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
