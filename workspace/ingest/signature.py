"""HMAC signatures of webhook bodies."""

import hashlib
import hmac


def sign(secret: str, body: bytes) -> str:
    """Return the native signature header value for a body: 'sha256=<hex>'."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """Tell whether a 'sha256=<hex>' header signs this body, in constant time."""
    if not header:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode())
