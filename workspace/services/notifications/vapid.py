"""This installation's VAPID key pair (RFC 8292): made once at set-up (or first use), kept in instance/."""

import base64
import os
import time
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from flask import current_app
from py_vapid import Vapid02

# A VAPID token is good for this long (push services refuse more than 24 hours).
TOKEN_SECONDS = 12 * 3600


def key_file() -> str:
    """Where the private key is kept: VAPID_KEY_FILE, else instance/vapid.pem."""
    return current_app.config["VAPID_KEY_FILE"] or os.path.join(current_app.instance_path, "vapid.pem")


def ensure_keys(path: str | None = None) -> str:
    """Make the key pair unless it exists (two processes racing make one); returns the file's path."""
    path = path or key_file()
    if not os.path.exists(path):
        vapid = Vapid02()
        vapid.generate_keys()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path
        with os.fdopen(fd, "wb") as handle:
            handle.write(vapid.private_pem())
    return path


def _vapid() -> Vapid02:
    return Vapid02.from_file(ensure_keys())


def public_key() -> str:
    """The public key as browsers take it (`applicationServerKey`): the uncompressed point, base64url."""
    point = _vapid().public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


def authorization(endpoint: str) -> dict[str, str]:
    """The `Authorization: vapid t=...,k=...` header for a push to this endpoint's push service."""
    parts = urlsplit(endpoint)
    claims = {"aud": f"{parts.scheme}://{parts.netloc}", "exp": int(time.time()) + TOKEN_SECONDS,
              "sub": current_app.config["VAPID_SUBJECT"]}
    return _vapid().sign(claims)
