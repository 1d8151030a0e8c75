"""The TOTP second factor (RFC 6238, via pyotp): enrolment, codes that work once, recovery codes, disabling, resets."""

import base64
import hashlib
import hmac
import secrets
import time

import pyotp
import sqlalchemy as sa
from werkzeug.security import check_password_hash

from workspace.errors import SwitchboardError, Unauthorized, ValidationError
from workspace.extensions import db
from workspace.models import Agent, RecoveryCode, utcnow
from workspace.services import audit
from workspace.services.signin.throttle import code_counters, throttle

ISSUER = "Switchboard"
# Codes of the step before and after the current one are accepted too (phone clocks drift).
DRIFT_STEPS = 1
RECOVERY_CODES = 10
# Base32 characters per recovery code: 16 carry 80 random bits, so a plain SHA-256 of one cannot be reversed.
RECOVERY_LENGTH = 16
# The most characters of a code that are even looked at (anything longer is simply wrong).
MAX_CODE_LENGTH = 64


def enabled(agent: Agent) -> bool:
    """Tell whether signing in as this agent asks for a second factor."""
    return agent.totp_enabled_at is not None and bool(agent.totp_secret)


def provisioning_uri(agent: Agent) -> str:
    """The otpauth:// URI an authenticator app reads (as a QR code or typed) for the agent's secret."""
    return pyotp.TOTP(agent.totp_secret).provisioning_uri(name=agent.email, issuer_name=ISSUER)


def start_enrolment(agent: Agent) -> None:
    """Give the agent a new, not yet confirmed secret (replacing an unconfirmed one); commits."""
    if enabled(agent):
        raise SwitchboardError("two-factor sign-in is already on; turn it off first", code="conflict", status=409)
    agent.totp_secret, agent.totp_last_step = pyotp.random_base32(), None
    db.session.commit()


def confirm_enrolment(agent: Agent, code: str, address: str, device: str | None) -> list[str]:
    """Turn the second factor on once the agent proves their app has the secret; commits.

    Returns:
        The new recovery codes: this is their only clear copy.
    """
    if enabled(agent) or not agent.totp_secret:
        raise SwitchboardError("start setting up two-factor sign-in first", code="conflict", status=409)
    _checked(agent, code, address, device, recovery=False)
    agent.totp_enabled_at = utcnow()
    codes = _new_recovery_codes(agent)
    audit.record(agent, "agent.two_factor_enable", "agent", agent.id)
    db.session.commit()
    return codes


def verify(agent: Agent, code: str, address: str, device: str | None) -> str:
    """Check a sign-in code: a TOTP code not used before, or an unused recovery code (then spent); commits.

    Returns:
        "totp" or "recovery", whichever the code was.

    Raises:
        Throttled: too many wrong codes lately.
        Unauthorized: a wrong, expired or already used code.
    """
    kind = _checked(agent, code, address, device, recovery=True)
    db.session.commit()
    return kind


def disable(agent: Agent, *, password: str = "", code: str = "", address: str, device: str | None) -> None:
    """Turn the second factor off, proven by the agent's password or a current code; commits."""
    if not enabled(agent):
        raise SwitchboardError("two-factor sign-in is not on", code="conflict", status=409)
    if password:
        limiter = throttle()
        attempt = limiter.charge(*code_counters(agent.id, address, device))
        if not (agent.password_hash and check_password_hash(agent.password_hash, password)):
            raise Unauthorized("wrong password", code="bad_credentials")
        limiter.succeeded(attempt)
    elif code:
        _checked(agent, code, address, device, recovery=True)
    else:
        raise ValidationError("give your password or a code to turn two-factor sign-in off", code="invalid_field")
    _clear(agent)
    audit.record(agent, "agent.two_factor_disable", "agent", agent.id)
    db.session.commit()


def reset(admin: Agent, agent: Agent) -> None:
    """An admin turns an agent's second factor off (a lost phone); audited; commits."""
    was_on = enabled(agent)
    _clear(agent)
    audit.record(admin, "agent.two_factor_reset", "agent", agent.id, before={"two_factor": was_on},
                 after={"two_factor": False})
    db.session.commit()


def recovery_codes_left(agent: Agent) -> int:
    """How many of the agent's recovery codes are unused."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode).where(
        RecoveryCode.agent_id == agent.id, RecoveryCode.used_at.is_(None)))


def _clear(agent: Agent) -> None:
    agent.totp_secret = agent.totp_enabled_at = agent.totp_last_step = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.agent_id == agent.id))


def _checked(agent: Agent, code: str, address: str, device: str | None, *, recovery: bool) -> str:
    """Check a code behind the code throttle; returns its kind or raises (Throttled, Unauthorized)."""
    limiter = throttle()
    attempt = limiter.charge(*code_counters(agent.id, address, device))
    typed = "".join((code or "")[:MAX_CODE_LENGTH].split())
    if typed.isdigit() and len(typed) == 6:
        kind = "totp" if _claim_step(agent, typed) else None
    else:
        kind = "recovery" if recovery and _spend_recovery_code(agent, typed) else None
    if kind is None:
        raise Unauthorized("wrong or already used code", code="bad_code")
    limiter.succeeded(attempt)
    return kind


def _claim_step(agent: Agent, typed: str) -> bool:
    """Accept a TOTP code of a step near now and after the last accepted one, recording that step.

    The conditional update makes it atomic: two requests with the same code cannot both claim its step.
    """
    totp, now = pyotp.TOTP(agent.totp_secret), time.time()
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), typed):
            claimed = db.session.execute(sa.update(Agent).where(
                Agent.id == agent.id,
                sa.or_(Agent.totp_last_step.is_(None), Agent.totp_last_step < step),
            ).values(totp_last_step=step).execution_options(synchronize_session=False))
            if claimed.rowcount == 1:
                agent.totp_last_step = step
                return True
            return False
    return False


def _spend_recovery_code(agent: Agent, typed: str) -> bool:
    """Mark an unused recovery code used; the conditional update lets each work exactly once."""
    normal = typed.replace("-", "").upper()
    spent = db.session.execute(sa.update(RecoveryCode).where(
        RecoveryCode.agent_id == agent.id, RecoveryCode.code_hash == _hash(normal), RecoveryCode.used_at.is_(None),
    ).values(used_at=utcnow()).execution_options(synchronize_session=False))
    return spent.rowcount == 1


def _new_recovery_codes(agent: Agent) -> list[str]:
    """Replace the agent's recovery codes with new ones; returns them grouped by four for reading."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.agent_id == agent.id))
    codes = [base64.b32encode(secrets.token_bytes(RECOVERY_LENGTH * 5 // 8)).decode() for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(agent_id=agent.id, code_hash=_hash(code)) for code in codes)
    return ["-".join(code[i:i + 4] for i in range(0, RECOVERY_LENGTH, 4)) for code in codes]


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()

