"""Security headers on every answer: pages, API, webhooks and static files alike."""

from flask import Flask, Response

# Scripts, styles and everything else come only from Switchboard's own origin: no inline script, no
# inline style attribute, no eval; the socket connects back to the same origin ('self' covers ws/wss);
# the favicon is `data:,`. Nothing may frame a page, and forms post only back here.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def add_security_headers(response: Response) -> Response:
    """Set the security headers on a response, keeping any a view chose itself."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    """Send the security headers with every response the app gives."""
    app.after_request(add_security_headers)
