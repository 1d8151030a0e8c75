"""Real HTTP servers standing in for the platforms replies go to: a Discourse-compatible API and a
callback receiver that honours Idempotency-Key. Each serves real sockets from a thread."""

import hmac
import threading
import time

from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from devstack.localredis import free_port
from workspace.channels.signature import sign


class LiveServer:
    """Serve a Flask app on 127.0.0.1 from a background thread until stopped."""

    def __init__(self, app: Flask):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = make_server("127.0.0.1", self.port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(timeout=10)


class Behaviour:
    """What the next requests meet: failures before storing, or a slow answer after storing."""

    def __init__(self):
        self.fail_next = 0  # answer 500 without storing
        self.slow_next = 0  # store, then take this long to answer...
        self.slow_seconds = 0.0  # ...this many seconds (past the sender's timeout)

    def before_store(self):
        """Return a 500 response if a failure is due, else None."""
        if self.fail_next:
            self.fail_next -= 1
            return jsonify(errors=["temporarily unavailable"]), 500
        return None

    def after_store(self):
        """Sleep past the client's timeout if a slow answer is due."""
        if self.slow_next:
            self.slow_next -= 1
            time.sleep(self.slow_seconds)


class FakeDiscourse(Behaviour):
    """The subset of Discourse's API the sender uses: create a post, read a topic, its posts, one post."""

    def __init__(self, api_key: str = "discourse-api-key-1", api_username: str = "switchboard"):
        super().__init__()
        self.api_key, self.api_username = api_key, api_username
        self.posts: dict[int, dict] = {}
        self.topics: dict[int, list[int]] = {}
        self.lock = threading.Lock()
        self.app = self._build()

    def add_topic(self, topic_id: int, *posts: tuple[str, str]) -> None:
        """Create a topic with (username, raw) posts."""
        self.topics.setdefault(topic_id, [])
        for username, raw in posts:
            self._create(topic_id, username, raw, None)

    def posts_in(self, topic_id: int) -> list[dict]:
        """The topic's posts, in order."""
        return [self.posts[i] for i in self.topics.get(topic_id, [])]

    def _create(self, topic_id: int, username: str, raw: str, reply_to) -> dict:
        with self.lock:
            post_id = 1000 + len(self.posts)
            post = {"id": post_id, "topic_id": topic_id, "topic_slug": f"topic-{topic_id}", "username": username,
                    "post_number": len(self.topics[topic_id]) + 1, "raw": raw, "cooked": f"<p>{raw}</p>",
                    "reply_to_post_number": reply_to, "post_type": 1}
            self.posts[post_id] = post
            self.topics[topic_id].append(post_id)
            return post

    def _build(self) -> Flask:
        app = Flask("fake-discourse")

        def allowed() -> bool:
            return (hmac.compare_digest(request.headers.get("Api-Key", ""), self.api_key)
                    and request.headers.get("Api-Username") == self.api_username)

        denied = ({"errors": ["You are not permitted to view the requested resource. "
                              "The API username or key is invalid."], "error_type": "invalid_access"}, 403)

        @app.post("/posts.json")
        def create_post():
            if not allowed():
                return denied
            failure = self.before_store()
            if failure:
                return failure
            data = request.get_json()
            topic_id, raw = data.get("topic_id"), data.get("raw") or ""
            if topic_id not in self.topics:
                return {"errors": ["Topic not found"], "error_type": "not_found"}, 404
            if len(raw.strip()) < 5:
                return {"action": "create_post", "errors": ["Body is too short"]}, 422
            post = self._create(topic_id, self.api_username, raw, data.get("reply_to_post_number"))
            self.after_store()
            return {key: value for key, value in post.items() if key != "raw"} | {"raw": raw}

        @app.get("/t/<int:topic_id>.json")
        def topic(topic_id):
            if not allowed():
                return denied
            if topic_id not in self.topics:
                return {"errors": ["not found"]}, 404
            posts = [{k: v for k, v in p.items() if k != "raw"} for p in self.posts_in(topic_id)]
            return {"id": topic_id, "post_stream": {"posts": posts[:20], "stream": self.topics[topic_id]}}

        @app.get("/t/<int:topic_id>/posts.json")
        def topic_posts(topic_id):
            if not allowed():
                return denied
            wanted = {int(i) for i in request.args.getlist("post_ids[]")}
            posts = [{k: v for k, v in p.items() if k != "raw"} for p in self.posts_in(topic_id) if p["id"] in wanted]
            return {"post_stream": {"posts": posts}, "id": topic_id}

        @app.get("/posts/<int:post_id>.json")
        def one_post(post_id):
            if not allowed():
                return denied
            return self.posts[post_id] if post_id in self.posts else ({"errors": ["not found"]}, 404)

        return app


class CallbackReceiver(Behaviour):
    """A brand's relay: checks the signature and posts each Idempotency-Key once."""

    def __init__(self, secret: str):
        super().__init__()
        self.secret = secret
        self.posted: list[dict] = []  # replies it "posted" to the platform
        self.requests: list[dict] = []  # every accepted request's headers
        self.seen: set[str] = set()
        self.lock = threading.Lock()
        self.app = self._build()

    def _build(self) -> Flask:
        app = Flask("callback-receiver")

        @app.post("/replies")
        def receive():
            body = request.get_data()
            if not hmac.compare_digest(sign(self.secret, body), request.headers.get("X-Switchboard-Signature", "")):
                return {"error": "bad signature"}, 401
            failure = self.before_store()
            if failure:
                return failure
            key = request.headers["Idempotency-Key"]
            with self.lock:
                self.requests.append(dict(request.headers))
                if key in self.seen:
                    return {"status": "duplicate"}
                self.seen.add(key)
                self.posted.append(request.get_json())
            self.after_store()
            return {"status": "posted"}, 201

        return app
