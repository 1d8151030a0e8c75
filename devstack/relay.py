"""The demo's outbound relay: where the demo channels' replies go, spoken in each channel's real protocol.

It stands in for the platforms on this machine, so a reply in the demo shows "sent" rather than "skipped":

- Discourse's REST API under /discourse (POST /posts.json, and the GETs a retry uses to find an earlier
  attempt's post), checking the Api-Key and Api-Username headers as Discourse does;
- signed JSON reply callbacks (native, X and Khoros channels) at POST /callback/<channel>, answered once per
  Idempotency-Key as a receiver that remembers keys would;
- SMTP for the mail channel's replies.

Each delivery is appended as a JSON line to the log file; GET / lists the latest ones.

Usage: python -m devstack.relay --port 5009 --smtp-port 5010 --log instance/relay.jsonl --api-key KEY
"""

import argparse
import json
import re
import threading
import time
from email import message_from_bytes
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller

# How many deliveries GET / shows, newest first.
SHOWN = 200


class Deliveries:
    """What the relay received: kept in memory (for Discourse's reads and idempotency) and appended to a log."""

    def __init__(self, log: Path):
        self.log, self.lock = log, threading.Lock()
        self.entries: list[dict] = []
        self.keys: set[str] = set()
        # Discourse topics: topic id -> its posts ({id, post_number, username, raw}).
        self.topics: dict[int, list[dict]] = {}
        self.posts: dict[int, dict] = {}

    def record(self, entry: dict) -> None:
        """Keep one delivery and append it to the log."""
        entry = {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **entry}
        with self.lock:
            self.entries.append(entry)
            self.log.parent.mkdir(parents=True, exist_ok=True)
            with self.log.open("a") as handle:
                handle.write(json.dumps(entry) + "\n")

    def first_time(self, key: str) -> bool:
        """Whether this Idempotency-Key is new (and remember it)."""
        with self.lock:
            if key in self.keys:
                return False
            self.keys.add(key)
            return True

    def add_post(self, topic_id: int, username: str, raw: str) -> dict:
        """A new Discourse post in a topic (the customer's first post is number 1, so ours start at 2)."""
        with self.lock:
            topic = self.topics.setdefault(topic_id, [])
            post = {"id": 100_000 + len(self.posts) + 1, "topic_id": topic_id, "post_number": len(topic) + 2,
                    "topic_slug": f"topic-{topic_id}", "username": username, "raw": raw}
            topic.append(post)
            self.posts[post["id"]] = post
            return post


def handler_for(deliveries: Deliveries, api_key: str):
    """The HTTP request handler class, bound to the deliveries and the Discourse API key it accepts."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 (the base class's name)
            pass  # the launcher prefixes our output; one line per delivery is printed instead

        def answer(self, status: int, body) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def discourse_user(self) -> str | None:
            if self.headers.get("Api-Key") != api_key or not self.headers.get("Api-Username"):
                self.answer(403, {"errors": ["You are not permitted to view the requested resource."]})
                return None
            return self.headers["Api-Username"]

        def do_GET(self):  # noqa: N802 (http.server's name)
            url = urlsplit(self.path)
            if url.path == "/":
                return self.answer(200, {"deliveries": deliveries.entries[-SHOWN:][::-1]})
            if not url.path.startswith("/discourse/"):
                return self.answer(404, {"error": "not found"})
            if self.discourse_user() is None:
                return None
            if match := re.fullmatch(r"/discourse/t/(\d+)\.json", url.path):
                posts = deliveries.topics.get(int(match[1]), [])
                return self.answer(200, {"post_stream": {"stream": [p["id"] for p in posts]}})
            if match := re.fullmatch(r"/discourse/t/(\d+)/posts\.json", url.path):
                wanted = {int(i) for i in parse_qs(url.query).get("post_ids[]", []) if i.isdigit()}
                return self.answer(200, {"post_stream": {"posts": [p for p in deliveries.topics.get(int(match[1]), [])
                                                                   if p["id"] in wanted]}})
            if (match := re.fullmatch(r"/discourse/posts/(\d+)\.json", url.path)) and int(match[1]) in deliveries.posts:
                return self.answer(200, deliveries.posts[int(match[1])])
            return self.answer(404, {"errors": ["The requested URL or resource could not be found."]})

        def do_POST(self):  # noqa: N802 (http.server's name)
            url = urlsplit(self.path)
            raw = self.body()
            if url.path == "/discourse/posts.json":
                username = self.discourse_user()
                if username is None:
                    return None
                try:
                    sent = json.loads(raw)
                    topic_id = int(sent["topic_id"])
                except (ValueError, KeyError, TypeError):
                    return self.answer(422, {"errors": ["topic_id and raw are required"]})
                post = deliveries.add_post(topic_id, username, str(sent.get("raw", "")))
                deliveries.record({"protocol": "discourse", "topic_id": topic_id, "post": post,
                                   "reply_to_post_number": sent.get("reply_to_post_number")})
                print(f"discourse reply in topic {topic_id} as {username}", flush=True)
                return self.answer(200, post)
            if match := re.fullmatch(r"/callback/([\w-]+)", url.path):
                key = self.headers.get("Idempotency-Key", "")
                if key and not deliveries.first_time(key):
                    return self.answer(200, {"ok": True, "duplicate": True})
                try:
                    sent = json.loads(raw)
                except ValueError:
                    return self.answer(400, {"error": "not JSON"})
                deliveries.record({"protocol": "callback", "channel": match[1], "idempotency_key": key,
                                   "event": self.headers.get("X-Switchboard-Event"),
                                   "signature": self.headers.get("X-Switchboard-Signature"), "body": sent})
                print(f"callback reply on {match[1]} ({sent.get('visibility')})", flush=True)
                return self.answer(200, {"ok": True})
            return self.answer(404, {"error": "not found"})

    return Handler


class MailHandler:
    """aiosmtpd handler: record each reply mail's envelope and headers."""

    def __init__(self, deliveries: Deliveries):
        self.deliveries = deliveries

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        mail = message_from_bytes(envelope.content, policy=email_policy)
        self.deliveries.record({"protocol": "smtp", "from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                                "subject": str(mail.get("Subject", "")), "message_id": str(mail.get("Message-ID", ""))})
        print(f"mail reply to {', '.join(envelope.rcpt_tos)}", flush=True)
        return "250 OK"


def serve(port: int, smtp_port: int | None, log: Path, api_key: str, host: str = "127.0.0.1"):
    """Start the relay's HTTP (and SMTP) listeners; returns (http server, smtp controller or None, deliveries).

    The HTTP server is not yet serving: call its serve_forever (in a thread, for tests)."""
    deliveries = Deliveries(log)
    server = ThreadingHTTPServer((host, port), handler_for(deliveries, api_key))
    controller = None
    if smtp_port is not None:
        controller = Controller(MailHandler(deliveries), hostname=host, port=smtp_port)
        controller.start()
    return server, controller, deliveries


def main(argv: list[str] | None = None) -> None:
    """Run the relay until stopped."""
    parser = argparse.ArgumentParser(prog="python -m devstack.relay", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="HTTP port (Discourse API and callbacks)")
    parser.add_argument("--smtp-port", type=int, help="SMTP port for mail replies")
    parser.add_argument("--log", type=Path, required=True, help="JSON lines file the deliveries are appended to")
    parser.add_argument("--api-key", required=True, help="the Discourse Api-Key the demo forum channel sends")
    options = parser.parse_args(argv)
    server, controller, _ = serve(options.port, options.smtp_port, options.log, options.api_key)
    print(f"relay on http://127.0.0.1:{options.port}/ (smtp {options.smtp_port}), log {options.log}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if controller is not None:
            controller.stop()


if __name__ == "__main__":
    main()
