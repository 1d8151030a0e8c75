"""Shared fixtures: a fresh database per test (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set), a real Redis, signed webhooks and API tokens."""

import contextlib
import json
import os
import sys
import time
import uuid

import pytest
import sqlalchemy as sa
from redis import Redis

from devstack.launcher import start_process, stop_process, wait_healthy
from devstack.localredis import free_port, start_redis
from workspace import create_app
from workspace.channels.signature import sign
from workspace.config import TestConfig
from workspace.extensions import db
from workspace.models import Agent, ApiToken, Author, Channel, Conversation, Message, OutboxEntry, Queue

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
SKIP_POSTGRES = "PostgreSQL run skipped: TEST_DATABASE_URL is not set"
SECRET = "test-channel-secret"


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


def make_config(**overrides) -> type:
    """A TestConfig subclass with overrides (create_app takes config classes)."""
    return type("Config", (TestConfig,), overrides)


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


_counter = iter(range(10**9))


def make_post(**overrides) -> dict:
    """A valid native post; every call gets a new id unless one is given."""
    number = next(_counter)
    post = {"id": f"p{number}", "author": {"id": "u1", "handle": "maya", "name": "Maya"},
            "text": "My invoice looks wrong, can someone help?"}
    post.update(overrides)
    return post


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


def table_counts() -> dict:
    """Rows per table, to show a refused request changed nothing."""
    return {model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Author, Conversation, Message, OutboxEntry)}


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
def redis(redis_url):
    """A Redis client on the test server."""
    client = Redis.from_url(redis_url)
    yield client
    client.close()


@contextlib.contextmanager
def running(app, redis_url: str, folder, **env):
    """Run the Procfile's web and worker on the app's database and Redis; yield the base URL.

    Extra keyword arguments become environment variables of the processes.
    """
    port = free_port()
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=redis_url, PORT=str(port),
               SWITCHBOARD_RQ_QUEUE=app.config["RQ_QUEUE"], SWITCHBOARD_SECRET_KEY=uuid.uuid4().hex,
               SWITCHBOARD_MODEL_DIR=str(folder / "models"),
               PATH=f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}", **env)
    logs = {name: open(folder / f"{name}.log", "w") for name in ("web", "worker")}
    processes = [start_process(name, env, stdout=logs[name], stderr=logs[name]) for name in logs]
    base = f"http://127.0.0.1:{port}"
    try:
        if not wait_healthy(base):
            pytest.fail("web process did not become healthy:\n" + (folder / "web.log").read_text())
        yield base
    finally:
        for process in processes:
            stop_process(process)
        for handle in logs.values():
            handle.close()


# The credentials and webhook secret the ticketing stub and Switchboard share in tests.
TICKETING_EMAIL = "switchboard@example.com"
TICKETING_TOKEN = "stub-api-token"
TICKETING_SECRET = "ticketing-webhook-secret"


def ticketing_env(stub_url: str) -> dict:
    """Environment pointing Switchboard's processes at a ticketing stub (for `running(..., **env)`)."""
    return {"SWITCHBOARD_TICKETING_URL": stub_url, "SWITCHBOARD_TICKETING_EMAIL": TICKETING_EMAIL,
            "SWITCHBOARD_TICKETING_TOKEN": TICKETING_TOKEN, "SWITCHBOARD_TICKETING_WEBHOOK_SECRET": TICKETING_SECRET,
            "SWITCHBOARD_TICKETING_TIMEOUT_SECONDS": "3", "SWITCHBOARD_ESCALATION_RETRY_SECONDS": "1,1,1,1,1"}


@contextlib.contextmanager
def running_stub(folder, port: int, webhook_url: str | None = None):
    """Run the Procfile's `tickets` (the ticketing stub) on a port, with its own SQLite file in folder;
    yield its base URL. Its tickets outlive a restart on the same folder."""
    env = dict(os.environ, TICKETS_PORT=str(port), TICKETS_DATABASE=str(folder / "tickets.db"),
               TICKETS_API_EMAIL=TICKETING_EMAIL, TICKETS_API_TOKEN=TICKETING_TOKEN,
               TICKETS_WEBHOOK_URL=webhook_url or "", TICKETS_WEBHOOK_SECRET=TICKETING_SECRET,
               PATH=f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}")
    log = open(folder / f"tickets-{port}.log", "a")
    process = start_process("tickets", env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        if not wait_healthy(base):
            pytest.fail("ticketing stub did not start:\n" + (folder / f"tickets-{port}.log").read_text())
        yield base
    finally:
        stop_process(process)
        log.close()


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.1) -> bool:
    """Poll until predicate() is true or the time runs out; tell which (never a timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
