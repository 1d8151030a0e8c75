"""Each agent's devices: Web Push subscriptions added, listed and revoked; endpoints checked against SSRF."""

import base64
import binascii
import ipaddress
import socket
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app

from workspace.errors import NotFound, ValidationError
from workspace.extensions import db
from workspace.models import Agent, PushSubscription, utcnow
from workspace.services import audit

MAX_DEVICES = 20
MAX_LABEL = 120


class UnsafeEndpoint(ValueError):
    """An endpoint this server must not call: not https, or an address inside the network."""


def check_endpoint(endpoint: str) -> None:
    """Refuse an endpoint that is not https or resolves to a loopback, private, link-local or other non-public
    address (a push would otherwise be a request into our own network); PUSH_ALLOW_LOCAL_ENDPOINTS lifts
    this for a local push service in tests and development.

    Raises:
        UnsafeEndpoint: saying why.
    """
    parts = urlsplit(endpoint)
    allow_local = current_app.config["PUSH_ALLOW_LOCAL_ENDPOINTS"]
    if parts.scheme != "https" and not (allow_local and parts.scheme == "http"):
        raise UnsafeEndpoint("must be an https URL")
    if not parts.hostname or parts.username or parts.password:
        raise UnsafeEndpoint("must name a host (and no credentials)")
    if allow_local:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443,
                                                                proto=socket.IPPROTO_TCP)}
    except (OSError, UnicodeError) as error:
        raise UnsafeEndpoint(f"its host does not resolve ({error})") from None
    for address in addresses:
        if not ipaddress.ip_address(address.split("%")[0]).is_global:
            raise UnsafeEndpoint("its host is not a public address")


def _key(name: str, value, length: int) -> str:
    """A base64url key of exactly `length` bytes (p256dh: an uncompressed P-256 point; auth: 16 bytes)."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (TypeError, ValueError, binascii.Error):
        raw = b""
    if len(raw) != length or (name == "keys.p256dh" and raw[0] != 4):
        raise ValidationError(f"{name}: not a valid key", code="invalid_field")
    return value


def subscribe(agent: Agent, data: dict) -> PushSubscription:
    """Add (or renew) a device's subscription for the agent: the browser's PushSubscription JSON and a label.

    An endpoint already known is re-owned by this agent (a shared device signed in by someone else).
    """
    endpoint = data["endpoint"]
    try:
        check_endpoint(endpoint)
    except UnsafeEndpoint as unsafe:
        raise ValidationError(f"endpoint: {unsafe}", code="unsafe_endpoint") from None
    keys = data["keys"]
    p256dh, auth = _key("keys.p256dh", keys["p256dh"], 65), _key("keys.auth", keys["auth"], 16)
    row = db.session.scalar(sa.select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if row is None:
        count = db.session.scalar(sa.select(sa.func.count()).select_from(PushSubscription)
                                  .where(PushSubscription.agent_id == agent.id))
        if count >= MAX_DEVICES:
            raise ValidationError(f"at most {MAX_DEVICES} devices: revoke one first", code="too_many")
        row = PushSubscription(endpoint=endpoint, created_at=utcnow())
        db.session.add(row)
    row.agent_id, row.p256dh, row.auth = agent.id, p256dh, auth
    row.label = (data.get("label") or "")[:MAX_LABEL]
    row.last_error = None
    db.session.flush()
    audit.record(agent, "push.subscribe", "push_subscription", row.id, after={"label": row.label})
    db.session.commit()
    return row


def list_devices(agent: Agent) -> list[PushSubscription]:
    """The agent's subscribed devices, oldest first."""
    return list(db.session.scalars(sa.select(PushSubscription).where(PushSubscription.agent_id == agent.id)
                                   .order_by(PushSubscription.id)))


def revoke(agent: Agent, subscription_id: int) -> None:
    """Remove one of the agent's devices (anyone else's does not exist for them)."""
    row = db.session.get(PushSubscription, subscription_id)
    if row is None or row.agent_id != agent.id:
        raise NotFound("no such device")
    audit.record(agent, "push.revoke", "push_subscription", row.id, before={"label": row.label})
    db.session.delete(row)
    db.session.commit()

