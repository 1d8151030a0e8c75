"""A local push service speaking RFC 8030, for tests: it checks each push's VAPID authorization (RFC 8292),
decrypts its payload with the subscription's keys as the browser would (RFC 8291, aes128gcm), and answers
201, 404 or 410, or hangs, as each endpoint is told to; `shown` is what the phone would show."""

import base64
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Device:
    """A browser's subscription: its own key pair and auth secret, as `pushManager.subscribe` makes them."""

    def __init__(self, service: "PushService", name: str, answer: int | str = 201):
        self.name, self.answer = name, answer
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.endpoint = f"{service.url}/push/{name}"
        self.received: list[dict] = []

    def subscription(self, label: str = "") -> dict:
        """The PushSubscription JSON a browser hands the page."""
        point = self.private_key.public_key().public_bytes(serialization.Encoding.X962,
                                                           serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": self.endpoint, "expirationTime": None,
                "keys": {"p256dh": b64url(point), "auth": b64url(self.auth)}, "label": label or self.name}

    def shown(self) -> dict[str, dict]:
        """What the phone shows: the latest payload per tag (a newer one with the same tag replaces the older)."""
        return {push["tag"]: push for push in self.received}


class PushService:
    """The stand-in, on a free loopback port, until `close()`."""

    def __init__(self):
        self.devices: dict[str, Device] = {}
        self.refused: list[str] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the standard library's name
                service.handle(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def device(self, name: str, answer: int | str = 201) -> Device:
        """A new browser subscription whose pushes this service answers with `answer` (or "hang")."""
        self.devices[name] = Device(self, name, answer)
        return self.devices[name]

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length", 0)))
        device = self.devices.get(request.path.rsplit("/", 1)[-1])
        if device is None or device.answer in (404, 410):
            request.send_response(device.answer if device else 404)
            request.end_headers()
            return
        if device.answer == "hang":
            time.sleep(5)
            return
        problem = self.check_vapid(request.headers.get("Authorization", ""))
        if problem or request.headers.get("Content-Encoding") != "aes128gcm" or not request.headers.get("TTL"):
            self.refused.append(problem or "bad headers")
            request.send_response(403 if problem else 400)
            request.end_headers()
            return
        payload = http_ece.decrypt(body, private_key=device.private_key, auth_secret=device.auth, version="aes128gcm")
        device.received.append({**json.loads(payload), "at": time.time(), "topic": request.headers.get("Topic"),
                                "urgency": request.headers.get("Urgency")})
        request.send_response(201)
        request.send_header("Location", f"{self.url}/message/{len(device.received)}")
        request.end_headers()

    def check_vapid(self, header: str) -> str | None:
        """Why a VAPID authorization is refused, or None: the JWT is signed by key k, for this origin, unexpired."""
        if not header.startswith("vapid "):
            return "no vapid authorization"
        fields = dict(part.strip().split("=", 1) for part in header[6:].split(","))
        header_part, claims_part, signature = fields["t"].split(".")
        claims = json.loads(unb64url(claims_part))
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(fields["k"]))
        raw = unb64url(signature)
        try:
            key.verify(encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:])),
                       f"{header_part}.{claims_part}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return "bad signature"
        if claims.get("aud") != self.url or claims.get("exp", 0) < time.time() or "sub" not in claims:
            return f"bad claims {claims}"
        return None

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
