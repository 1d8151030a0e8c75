"""Zendesk's webhook signatures: base64 HMAC-SHA256 of the timestamp header followed by the raw body.

Both sides use this module: the stub signs the status changes it sends, and
Switchboard verifies them, exactly as it would a real Zendesk webhook.
"""

import base64
import hashlib
import hmac
from datetime import UTC, datetime

SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
# A signed request older (or newer) than this is refused: a captured one cannot be replayed later.
TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Return the signature header value for a body sent at `timestamp`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_headers(secret: str, body: bytes, now: datetime | None = None) -> dict[str, str]:
    """The two headers a Zendesk webhook carries, for this body sent now."""
    timestamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, body)}


def signed_at(secret: str, headers, body: bytes, now: datetime | None = None) -> datetime | None:
    """Return when a request was signed if its headers sign this body with this secret, recently; else None.

    Args:
        secret: the webhook's signing secret.
        headers: the request's headers (any mapping with .get).
        body: the raw request body, exactly as received.
        now: the current time (for tests).

    Returns:
        The signing time (aware UTC), or None for a missing, wrong or stale signature.
    """
    timestamp, signature = headers.get(TIMESTAMP_HEADER), headers.get(SIGNATURE_HEADER)
    if not secret or not timestamp or not signature:
        return None
    if not hmac.compare_digest(sign(secret, timestamp, body).encode(), signature.strip().encode()):
        return None
    try:
        moment = datetime.fromisoformat(timestamp.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    age = ((now or datetime.now(UTC)) - moment).total_seconds()
    return moment.astimezone(UTC) if abs(age) <= TOLERANCE_SECONDS else None
