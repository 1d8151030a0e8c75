"""Shared fixtures: a fresh database per test (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set), a real Redis, signed webhooks and API tokens."""

import json
import os
import uuid

import pytest
from redis import Redis

from devstack.localredis import start_redis
from tests.factories import SECRET, make_config, table_counts
from workspace import create_app
from workspace.channels.signature import sign
from workspace.extensions import db
from workspace.models import Agent, ApiToken, Channel, Queue

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
SKIP_POSTGRES = "PostgreSQL run skipped: TEST_DATABASE_URL is not set"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real Redis: REDIS_URL when set, else a private server from the project's dependencies."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    process, url = start_redis(str(tmp_path_factory.mktemp("redis")))
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def database_url(request, tmp_path):
    """Each database-backed test runs on SQLite, and on PostgreSQL when one is configured."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/switchboard.db"
    if not POSTGRES_URL:
        pytest.skip(SKIP_POSTGRES)
    return POSTGRES_URL


@pytest.fixture
def app(database_url, redis_url, tmp_path):
    """A Switchboard app with an empty schema, its own RQ queue name and its own model folder."""
    app = create_app(make_config(
        SQLALCHEMY_DATABASE_URI=database_url, REDIS_URL=redis_url, RQ_QUEUE=f"test-{uuid.uuid4().hex[:8]}",
        MODEL_DIR=str(tmp_path / "models"),
    ))
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
    redis = Redis.from_url(redis_url)  # the app's own client may point at a dead port by now
    for key in redis.scan_iter("login:*"):  # sign-in attempt counters outlive the app
        redis.delete(key)
    redis.close()


@pytest.fixture
def client(app):
    """An HTTP test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner for the app's flask commands."""
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    """An app context for tests that use the database directly."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def channel(app):
    """A native channel 'forum' whose secret is SECRET."""
    with app.app_context():
        db.session.add(Channel(slug="forum", name="Forum", kind="native", secret=SECRET))
        for slug in ("triage", "billing", "tech"):
            db.session.add(Queue(slug=slug, name=slug.title()))
        db.session.commit()
    return "forum"


@pytest.fixture
def deliver(client, channel):
    """Send a signed webhook: deliver(payload_or_bytes, slug=..., secret=..., headers=...)."""

    def deliver(payload, *, slug=channel, secret=SECRET, headers=None, content_type="application/json"):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        sent = {"Content-Type": content_type, "X-Switchboard-Signature": sign(secret, body)}
        sent.update(headers or {})
        return client.post(f"/webhooks/{slug}", data=body, headers={k: v for k, v in sent.items() if v})

    return deliver


@pytest.fixture
def token_for(app):
    """Issue an API token for a new agent: token_for(role, email=..., name=...)."""

    def token_for(role: str, email: str | None = None, name: str | None = None) -> str:
        with app.app_context():
            agent = Agent(email=email or f"{role}@example.com", name=name or role.title(), role=role)
            row, secret = ApiToken.issue(agent, "tests")
            db.session.add_all([agent, row])
            db.session.commit()
        return secret

    return token_for


@pytest.fixture
def token(token_for):
    """An API token for Ada, an admin."""
    return token_for("admin", email="ada@example.com", name="Ada")


@pytest.fixture
def api(client, token):
    """GET an API path with the token: api('/queues')."""

    def get(path, **kwargs):
        return client.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, **kwargs)

    return get


@pytest.fixture
def counts(app):
    """Return the current row counts (call it before and after)."""

    def counts():
        with app.app_context():
            try:
                return table_counts()
            finally:
                db.session.remove()

    return counts


@pytest.fixture
def run_jobs(app):
    """Run every queued job with a real (non-forking) RQ worker on the real Redis, then return."""
    from workspace.infra.broker import job_queue, redis_client
    from workspace.jobs.worker import AppWorker

    def run():
        with app.app_context():
            worker = AppWorker([job_queue()], connection=redis_client())
            worker.work(burst=True)
            db.session.remove()

    return run


@pytest.fixture
def emitted(monkeypatch):
    """Record socket events as (event, room, data) instead of publishing them (a spy on one piece)."""
    from workspace.live import publish

    sent = []
    monkeypatch.setattr(publish.socketio, "emit", lambda name, data, to=None: sent.append((name, to, data)))
    return sent


@pytest.fixture
def redis(redis_url):
    """A Redis client on the test server."""
    client = Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def as_token(client):
    """Call the API with a given token: as_token(token)('get', path)."""
    def with_token(token):
        def call(method, path, **kwargs):
            return getattr(client, method)(f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, **kwargs)
        return call
    return with_token
