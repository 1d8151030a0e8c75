"""Fixtures of the engineering-alert tests: a local server standing in for a Slack incoming webhook, and Ada's
API calls."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class SlackHook(ThreadingHTTPServer):
    """A local HTTP server that records each JSON body posted to it and answers with the next status (200 once
    they run out)."""

    def __init__(self):
        self.posts, self.statuses = [], []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler):  # noqa: N805 - the server is `self` here
                body = handler.rfile.read(int(handler.headers["Content-Length"]))
                status = self.statuses.pop(0) if self.statuses else 200
                if status == 200:
                    self.posts.append(json.loads(body))
                handler.send_response(status)
                handler.send_header("Content-Type", "text/plain")
                handler.end_headers()
                handler.wfile.write(b"ok" if status == 200 else b"no_service")

            def log_message(handler, *args):  # noqa: N805
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/services/T000/B000/XXXX"


@pytest.fixture
def slack():
    """The stand-in webhook; slack.posts holds what it took, slack.statuses what it answers next."""
    server = SlackHook()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def admin(client, token):
    """Call the API as Ada (admin): admin('patch', path, json=...)."""

    def call(method, path, **kwargs):
        return getattr(client, method)(f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, **kwargs)

    return call
