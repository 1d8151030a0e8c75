"""Channel settings: the checks each kind's SETTINGS use, and cleaning changes against a kind's SETTINGS.

A channel's `secret` signs what Switchboard and the brand exchange directly
(native and Khoros webhooks, Discourse's webhook secret, reply callbacks). The
settings hold what the platform issued (a Discourse API key, an X consumer
secret), which are write-only: the API says whether they are set, never what.
"""

import re
from urllib.parse import urlsplit

from workspace.errors import ValidationError

MAX_URL = 2048


def url(name: str, value) -> str:
    """Check an http(s) URL setting; return it without a trailing slash."""
    parts = urlsplit(value) if isinstance(value, str) else None
    if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname or len(value) > MAX_URL
            or any(c.isspace() or ord(c) < 32 for c in value)):
        raise ValidationError(f"settings.{name}: an http or https URL", code="invalid_field")
    return value.rstrip("/")


def pattern(regex: str, description: str):
    """Return a check that a setting is a string matching `regex` in full (`description` says what it is)."""
    compiled = re.compile(regex)

    def check(name: str, value) -> str:
        if not isinstance(value, str) or not compiled.fullmatch(value):
            raise ValidationError(f"settings.{name}: {description}", code="invalid_field")
        return value
    return check


MAX_RATE = 100_000


def rate(name: str, value) -> int:
    """Check a rate setting: a whole number of deliveries a second, 1 to MAX_RATE (digits from the CLI too)."""
    if isinstance(value, str) and value.isdigit() and len(value) <= 6:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_RATE:
        raise ValidationError(f"settings.{name}: a whole number of deliveries a second, 1 to {MAX_RATE}",
                              code="invalid_field")
    return value


def port(name: str, value) -> int:
    """Check a TCP port setting: 1 to 65535 (digits from the CLI too)."""
    if isinstance(value, str) and value.isdigit() and len(value) <= 5:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ValidationError(f"settings.{name}: a port number, 1 to 65535", code="invalid_field")
    return value


def boolean(name: str, value) -> bool:
    """Check a yes/no setting: true or false ("true"/"false" from the CLI too)."""
    if isinstance(value, str) and value.lower() in ("true", "false"):
        value = value.lower() == "true"
    if not isinstance(value, bool):
        raise ValidationError(f"settings.{name}: true or false", code="invalid_field")
    return value


token = pattern(r"[\x21-\x7e]{8,200}", "8 to 200 printable characters, no spaces")
# Settings the platform issued: accepted, never shown again.
WRITE_ONLY = frozenset({"api_key", "consumer_secret", "smtp_password", "imap_password"})


def clean(kind: str, allowed: dict, changes, current: dict | None = None) -> dict:
    """Return `current` updated with `changes` (a null value removes a setting), all checked.

    Args:
        kind: the channel's kind, for the error message.
        allowed: the kind's SETTINGS (setting -> check(name, value) returning the value to store).
        changes: the untrusted object of settings to change.
        current: the channel's settings now.

    Returns:
        The new settings (a new dict).
    """
    if not isinstance(changes, dict):
        raise ValidationError("settings: must be an object", code="invalid_field")
    settings = dict(current or {})
    for name, value in changes.items():
        if name not in allowed:
            known = ", ".join(allowed)
            raise ValidationError(f"settings.{name}: not a {kind} setting (settings: {known})", code="invalid_field")
        if value is None or value == "":
            settings.pop(name, None)
        else:
            settings[name] = allowed[name](name, value)
    return settings


def visible_settings(settings: dict | None) -> dict:
    """The settings as the API shows them: write-only ones become `<name>_set: true`."""
    shown = {}
    for name, value in (settings or {}).items():
        if name in WRITE_ONLY:
            shown[f"{name}_set"] = True
        else:
            shown[name] = value
    return shown
