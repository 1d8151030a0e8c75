"""Known-device tokens: a signed cookie value a browser gets after it signs in, naming the email and a random device.

OWASP's "device cookies": failed attempts from a browser holding one are
counted against that device alone (throttle.py), so the owner's own browser is
never slowed by an attacker guessing elsewhere. The token proves nothing else:
the password (and the second factor) are still asked every time.
"""

import secrets

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from workspace.services.signin.throttle import digest

SALT = "switchboard.known-device"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def issue(email: str) -> str:
    """A new known-device token for this (normalised) email."""
    return _serializer().dumps({"email": digest(email), "device": secrets.token_urlsafe(16)})


def device_for(token: str | None, email: str) -> str | None:
    """The device id a token carries, if it is genuine, not expired and issued for this email; else None."""
    if not token or len(token) > 512:
        return None
    try:
        claims = _serializer().loads(token, max_age=current_app.config["KNOWN_DEVICE_DAYS"] * 86400)
    except BadSignature:
        return None
    if not isinstance(claims, dict) or claims.get("email") != digest(email):
        return None
    device = claims.get("device")
    return device if isinstance(device, str) else None
