"""HMAC signatures of webhook bodies."""

import hashlib
import hmac
from collections.abc import Callable

from workspace.errors import Unauthorized


def sign(secret: str, body: bytes) -> str:
    """Return the native signature header value for a body: 'sha256=<hex>'."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """Tell whether a 'sha256=<hex>' header signs this body, in constant time."""
    if not header:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode())


def require_signature(headers, name: str, matches: Callable[[str], bool], *, hint: str = "") -> None:
    """Refuse (401) a delivery whose `name` header is missing or does not sign its body.

    Args:
        headers: the request's headers.
        name: the sender's signature header.
        matches: tells whether a header value signs this body (each sender has its own scheme).
        hint: said after "missing <name> header", e.g. where the sender sets its secret.
    """
    header = headers.get(name)
    if not header:
        raise Unauthorized(f"missing {name} header{hint}", code="signature_missing")
    if not matches(header):
        raise Unauthorized("signature does not match the body", code="signature_invalid")
