"""Finishing a console sign-in: the pending second-factor step, the known-device cookie, 429 with Retry-After."""

import time

from flask import Response, current_app, redirect, request, session, url_for
from flask_login import login_user

from workspace.extensions import db
from workspace.models import Agent
from workspace.services import audit
from workspace.services.signin import devices
from workspace.services.signin.throttle import Throttled
from workspace.web.auth import safe_next

# The browser's known-device token (services/signin/devices.py): HttpOnly, never sent cross-site.
DEVICE_COOKIE = "sb_device"
# Session key of a sign-in whose password was right and whose code is still awaited.
PENDING = "second_factor"


def client_address() -> str:
    """The address the request came from (what the throttle counts per place)."""
    return request.remote_addr or "?"


def device_token() -> str | None:
    """The known-device token this browser sent, if any."""
    return request.cookies.get(DEVICE_COOKIE)


def known_device(agent: Agent) -> str | None:
    """The device id of this browser's token, if it is a known device of this agent."""
    return devices.device_for(device_token(), agent.email)


def begin_second_factor(agent: Agent, remember: bool, next_url: str | None) -> Response:
    """The password was right and the agent has a second factor: remember that, and ask for the code."""
    session[PENDING] = {"agent": agent.id, "version": agent.session_version, "remember": remember,
                        "next": safe_next(next_url), "since": int(time.time())}
    return redirect(url_for("security.enter_code"))


def pending_agent() -> tuple[Agent, dict] | None:
    """The agent whose code is awaited (and the pending sign-in), unless none is or it went stale."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    if time.time() - pending.get("since", 0) > current_app.config["TWO_FACTOR_PENDING_SECONDS"]:
        session.pop(PENDING, None)
        return None
    agent = db.session.get(Agent, pending.get("agent"))
    if agent is None or not agent.active or agent.session_version != pending.get("version"):
        session.pop(PENDING, None)
        return None
    return agent, pending


def complete_sign_in(agent: Agent, remember: bool, next_url: str | None, how: str = "password") -> Response:
    """Start the agent's session, audit it, and mark this browser as a known device of theirs."""
    session.pop(PENDING, None)
    login_user(agent, remember=remember)
    audit.record(agent, "agent.sign_in", "agent", agent.id, after={"with": how})
    db.session.commit()
    response = redirect(safe_next(next_url))
    if not known_device(agent):
        response.set_cookie(DEVICE_COOKIE, devices.issue(agent.email),
                            max_age=current_app.config["KNOWN_DEVICE_DAYS"] * 86400, httponly=True,
                            samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def throttled_page(response: Response, error: Throttled) -> Response:
    """A page that refused a throttled attempt: 429 and Retry-After, so scripts and browsers both know."""
    response.status_code = error.status
    response.headers.update(error.headers)
    return response
