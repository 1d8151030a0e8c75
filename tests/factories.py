"""Helpers tests import (fixtures stay in conftest.py): data factories, the shared secrets, and the
real processes of the Procfile run for end-to-end tests."""

import contextlib
import os
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from devstack.launcher import start_process, stop_process, wait_healthy
from devstack.localredis import free_port
from workspace.config import TestConfig
from workspace.extensions import db
from workspace.jobs.dispatch import dispatch_once
from workspace.models import Agent, Author, Conversation, Message, OutboxEntry, Queue, queue_members

ROOT = Path(__file__).resolve().parent.parent  # the repository
SECRET = "test-channel-secret"


def make_config(**overrides) -> type:
    """A TestConfig subclass with overrides (create_app takes config classes)."""
    return type("Config", (TestConfig,), overrides)


_counter = iter(range(10**9))


def make_post(**overrides) -> dict:
    """A valid native post; every call gets a new id unless one is given."""
    number = next(_counter)
    post = {"id": f"p{number}", "author": {"id": "u1", "handle": "maya", "name": "Maya"},
            "text": "My invoice looks wrong, can someone help?"}
    post.update(overrides)
    return post


def table_counts() -> dict:
    """Rows per table, to show a refused request changed nothing."""
    return {model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Author, Conversation, Message, OutboxEntry)}


@contextlib.contextmanager
def running(app, redis_url: str, folder, **env):
    """Run the Procfile's web and worker on the app's database and Redis; yield the base URL.

    Extra keyword arguments become environment variables of the processes.
    """
    with running_many(app, redis_url, folder, webs=1, workers=1, **env) as bases:
        yield bases[0]


def process_env(app, redis_url: str, folder, **env) -> dict:
    """The environment of a Procfile process on the app's database, queue and this Redis, with a
    secret key and model folder of its own (shared by the processes given the same environment)."""
    return dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=redis_url,
                SWITCHBOARD_RQ_QUEUE=app.config["RQ_QUEUE"], SWITCHBOARD_SECRET_KEY=uuid.uuid4().hex,
                SWITCHBOARD_MODEL_DIR=str(folder / "models"),
                PATH=f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}", **env)


@contextlib.contextmanager
def running_many(app, redis_url: str, folder, *, webs: int, workers: int, **env):
    """Run `webs` web processes (each on its own port) and `workers` workers of the Procfile on the app's
    database and Redis, sharing one secret key and model folder; yield the web processes' base URLs.

    Extra keyword arguments become environment variables of the processes.
    """
    env = process_env(app, redis_url, folder, **env)
    ports = [free_port() for _ in range(webs)]
    names = ["web" if n == 0 else f"web{n + 1}" for n in range(webs)]
    names += ["worker" if n == 0 else f"worker{n + 1}" for n in range(workers)]
    logs = {name: open(folder / f"{name}.log", "w") for name in names}
    processes = []
    try:
        for name in names:
            kind = name.rstrip("0123456789")
            port = ports[int(name[len(kind):] or 1) - 1] if kind == "web" else ports[0]
            processes.append(start_process(kind, dict(env, PORT=str(port)), stdout=logs[name], stderr=logs[name]))
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for name, base in zip(names, bases, strict=False):
            if not wait_healthy(base):
                pytest.fail(f"{name} process did not become healthy:\n" + (folder / f"{name}.log").read_text())
        yield bases
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


def drained(app) -> bool:
    """Whether every conversation is routed up to its latest inbound post and the outbox is empty."""
    with app.app_context():
        try:
            latest = sa.select(sa.func.max(Message.id)).where(
                Message.conversation_id == Conversation.id, Message.direction == "inbound").scalar_subquery()
            unrouted = db.session.scalar(sa.select(sa.func.count()).select_from(Conversation).where(
                Conversation.routed_message_id.is_distinct_from(latest)))
            waiting = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEntry))
            return unrouted == 0 and waiting == 0
        finally:
            db.session.remove()


def join_queue(app, email: str, slug: str) -> None:
    """Make an agent a member of a queue."""
    with app.app_context():
        agent_id = db.session.scalar(sa.select(Agent.id).where(Agent.email == email))
        queue_id = db.session.scalar(sa.select(Queue.id).where(Queue.slug == slug))
        db.session.execute(queue_members.insert().values(agent_id=agent_id, queue_id=queue_id))
        db.session.commit()


def deliver_and_dispatch(app, deliver, post) -> int:
    """Post and hand the outbox to RQ; returns the conversation id."""
    response = deliver(post)
    assert response.status_code == 202
    with app.app_context():
        assert dispatch_once(100)
    return response.get_json()["conversation_id"]
