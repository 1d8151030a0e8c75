"""Where events may be sent: http(s) URLs on public addresses only (no request forgery into the private network)."""

import ipaddress
import socket
from urllib.parse import urlsplit

from flask import current_app

from workspace.errors import ValidationError

MAX_URL_CHARS = 2048


class Refused(ValueError):
    """A URL Switchboard will not send to: its message says why."""


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    return ip.is_global and not ip.is_multicast


def check_target(url: str) -> None:
    """Raise Refused unless `url` is http(s) with a host whose every address is public.

    Private, loopback, link-local and reserved addresses (the metadata service at 169.254.169.254, the
    database next door) are refused unless SUBSCRIPTION_ALLOW_PRIVATE is on, as in tests. Checked when a
    subscription is saved and again before each attempt, since a name can be pointed elsewhere later.
    """
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed IPv6 bracket
        raise Refused("url: an http:// or https:// URL with a host") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("url: an http:// or https:// URL with a host")
    if current_app.config["SUBSCRIPTION_ALLOW_PRIVATE"]:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)}
    except (OSError, ValueError, UnicodeError) as error:
        raise Refused(f"url: {parts.hostname} does not resolve ({error})") from None
    if not addresses or not all(_public(address) for address in addresses):
        raise Refused(f"url: {parts.hostname} is a private, loopback or reserved address")


def clean_url(url) -> str:
    """Check a subscription's URL for saving; a ValidationError says what is wrong."""
    if not isinstance(url, str) or not url.strip() or len(url) > MAX_URL_CHARS or any(c in url for c in "\x00\r\n"):
        raise ValidationError(f"url: an http(s) URL of at most {MAX_URL_CHARS} characters", code="invalid_field")
    try:
        check_target(url.strip())
    except Refused as error:
        raise ValidationError(str(error), code="invalid_url") from None
    return url.strip()
