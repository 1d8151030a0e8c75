"""Checking an email and password, behind the sign-in throttle."""

import sqlalchemy as sa
from werkzeug.security import check_password_hash

from workspace.errors import Forbidden, Unauthorized
from workspace.extensions import db
from workspace.models import Agent
from workspace.services.signin import devices
from workspace.services.signin.throttle import password_counters, throttle


def check_password(email: str, password: str, address: str, device_token: str | None) -> Agent:
    """Return the agent whose email and password these are, unless failures from here call for a wait first.

    Args:
        email: as typed; compared case-insensitively.
        password: as typed.
        address: the client's address.
        device_token: the browser's known-device cookie, if it sent one.

    Returns:
        The agent, when the password is right and the agent is active.

    Raises:
        Throttled: 429, too many recent failures for this email here, this email or this address.
        Unauthorized: wrong email or password (the same answer for both).
        Forbidden: the agent is deactivated.
    """
    email = email.strip().lower()
    counters, own = password_counters(email, address, devices.device_for(device_token, email))
    limiter = throttle()
    attempt = limiter.charge(counters, own)
    agent = db.session.scalar(sa.select(Agent).where(Agent.email == email))
    if agent is None or not agent.password_hash or not check_password_hash(agent.password_hash, password):
        raise Unauthorized("wrong email or password", code="bad_credentials")
    limiter.succeeded(attempt)
    if not agent.active:
        raise Forbidden("this account is deactivated", code="deactivated")
    return agent
