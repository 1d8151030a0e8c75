"""API tokens: issuing one with scopes and an expiry, listing an agent's, revoking one; each change audited."""

import re
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from workspace.errors import Forbidden, NotFound, ValidationError
from workspace.extensions import db
from workspace.models import TOKEN_SCOPES, Agent, ApiToken, has_role, scopes_allowed, utcnow
from workspace.services import audit
from workspace.services.admin import only_fields

# A token lives at most this long; "never" is asked for with no expiry at all.
MAX_LIFETIME = timedelta(days=5 * 365)
MAX_NAME = 120
_RELATIVE = re.compile(r"^(\d{1,5})([hd])$")
# What an expiry looks like (the API document's pattern): relative, or the start of an ISO 8601 date.
EXPIRES_PATTERN = r"^\s*(\d{1,5}[hd]|\d{4}-\d{2}-\d{2}([Tt ][^\x00]*)?)\s*$"


def parse_expiry(value, now: datetime) -> datetime | None:
    """Read an expiry: None (never), "<n>d" or "<n>h" from now, or an ISO 8601 date or date-time (UTC if naive).

    Args:
        value: the untrusted value.
        now: the moment it is relative to.

    Returns:
        The aware UTC moment the token stops working, or None.
    """
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise ValidationError('expires: "30d", "12h" or an ISO 8601 date or date-time', code="invalid_field")
    relative = _RELATIVE.match(value.strip())
    try:
        if relative:
            amount, unit = int(relative.group(1)), relative.group(2)
            moment = now + (timedelta(days=amount) if unit == "d" else timedelta(hours=amount))
        elif len(value.strip()) == 10:
            moment = datetime.combine(date.fromisoformat(value.strip()), time(), UTC)
        else:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValidationError('expires: "30d", "12h" or an ISO 8601 date or date-time', code="invalid_field")
    if moment <= now:
        raise ValidationError("expires: must be in the future", code="invalid_field")
    if moment - now > MAX_LIFETIME:
        raise ValidationError("expires: at most 5 years from now (or null for never)", code="invalid_field")
    return moment


def check_scopes(value, agent: Agent, caller: ApiToken | None) -> list[str]:
    """Return the asked-for scopes, refusing unknown ones (400) and ones beyond the agent or the caller (403).

    Args:
        value: the untrusted list of scope names.
        agent: whose token it will be.
        caller: the token the request came with (None for a console session or the CLI): a token cannot
            mint one that may do more than itself.
    """
    if not isinstance(value, list) or not value or not all(isinstance(s, str) for s in value):
        raise ValidationError(f"scopes: a non-empty list of {', '.join(TOKEN_SCOPES)}", code="invalid_field")
    unknown = sorted(set(value) - set(TOKEN_SCOPES))
    if unknown:
        raise ValidationError(f"scopes: {unknown[0]!r} is not a scope ({', '.join(TOKEN_SCOPES)})",
                              code="invalid_field")
    allowed = scopes_allowed(agent)
    beyond = [scope for scope in value if scope not in allowed]
    if beyond:
        raise Forbidden(f"scopes: {beyond[0]} is only for admins' tokens", code="scope_not_allowed")
    if caller is not None and not set(value) <= caller.scope_set:
        extra = sorted(set(value) - caller.scope_set)[0]
        raise Forbidden(f"scopes: this API token lacks {extra}, so it cannot issue a token with it",
                        code="scope_not_allowed")
    return [scope for scope in TOKEN_SCOPES if scope in value]


def token_state(token: ApiToken) -> dict:
    """A token as the audit log and listings keep it: never its secret or hash."""
    def moment(value):
        return value.isoformat() if value else None
    return {"id": token.id, "agent_id": token.agent_id, "name": token.name, "scopes": token.scopes.split(),
            "created_at": moment(token.created_at), "expires_at": moment(token.expires_at),
            "last_used_at": moment(token.last_used_at), "revoked_at": moment(token.revoked_at)}


def issue_token(agent: Agent, data, actor: Agent | None, caller: ApiToken | None = None) -> tuple[ApiToken, str]:
    """Issue a token for `agent` from {"name", "scopes"?, "expires"?}; commits and audits.

    Args:
        agent: whose token it is.
        data: the untrusted body.
        actor: who issues it (None for the CLI).
        caller: the token the request came with, if any.

    Returns:
        The token and the only copy of its secret.
    """
    data = only_fields(data, ("name", "scopes", "expires"))
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME or "\x00" in name:
        raise ValidationError(f"name: a string of 1 to {MAX_NAME} characters", code="invalid_field")
    scopes = check_scopes(data["scopes"], agent, caller) if "scopes" in data else [
        scope for scope in scopes_allowed(agent) if caller is None or scope in caller.scope_set]
    token, secret = ApiToken.issue(agent, name.strip(), scopes, parse_expiry(data.get("expires"), utcnow()))
    db.session.add(token)
    db.session.flush()
    audit.record(actor, "token.issue", "api_token", token.id, after=token_state(token))
    db.session.commit()
    return token, secret


def list_tokens(agent: Agent) -> list[ApiToken]:
    """An agent's tokens, newest first, revoked ones included (they say when)."""
    return list(db.session.scalars(
        sa.select(ApiToken).where(ApiToken.agent_id == agent.id).order_by(ApiToken.id.desc())))


def revoke_token(token_id: int, actor: Agent | None, owner: Agent | None = None) -> ApiToken:
    """Revoke a token: its owner may, and an admin may revoke anyone's; commits and audits.

    Args:
        token_id: which token.
        actor: who revokes it (None: the CLI, which may revoke any).
        owner: when given, the token must be this agent's (404 otherwise), as the agent-scoped path says.

    Returns:
        The token, revoked (revoking twice changes nothing).
    """
    token = db.session.get(ApiToken, token_id)
    # Someone else's token is "not found" to a non-admin, so ids reveal nothing.
    if token is None or (owner is not None and token.agent_id != owner.id) or (
            actor is not None and token.agent_id != actor.id and not has_role(actor, "admin")):
        raise NotFound(f"no API token {token_id}")
    if token.revoked_at is None:
        before = token_state(token)
        token.revoked_at = utcnow()
        audit.record(actor, "token.revoke", "api_token", token.id, before=before, after=token_state(token))
        db.session.commit()
    return token
