"""A real worker and scheduler against a real Redis that is stopped and started again on the same port:
both processes stay up, and carry on with their work once Redis is back."""

import contextlib
import logging
import time

import pytest
import sqlalchemy as sa
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from rq.job import Job, JobStatus

from devstack.launcher import start_process, stop_process
from devstack.localredis import start_redis
from tests.factories import make_post, process_env, wait_for
from workspace.extensions import db
from workspace.infra.broker import job_queue
from workspace.jobs import outages
from workspace.jobs.dispatch import Dispatcher, dispatch_once
from workspace.models import Conversation, OutboxEntry

OUTAGE_SECONDS = 4


class PrivateRedis:
    """A Redis server of this test's own that persists in its folder, so it can be stopped and started again."""

    def __init__(self, folder):
        self.folder = str(folder)
        self.process, self.url = start_redis(self.folder, persist=True)
        self.port = int(self.url.rsplit(":", 1)[1].split("/")[0])

    def stop(self) -> None:
        """Stop the server (it writes its append-only file on the way out)."""
        self.process.terminate()
        self.process.wait(timeout=10)

    @contextlib.contextmanager
    def down(self):
        """Stop the server for the block, then start it again on the same port and folder."""
        self.stop()
        try:
            yield
        finally:
            self.process, _ = start_redis(self.folder, self.port, persist=True)


@pytest.fixture
def private_redis(tmp_path):
    """A Redis only this test uses, since it is going to stop it."""
    server = PrivateRedis(tmp_path / "redis")
    yield server
    server.stop()


@pytest.fixture
def redis_url(private_redis):
    """The app of these tests talks to the private Redis (overrides the shared one)."""
    return private_redis.url


@pytest.fixture
def process(app, redis_url, tmp_path):
    """Start a Procfile process on the app's database and the private Redis: process('worker', **env)."""
    started = []

    def start(name: str, **env):
        log = open(tmp_path / f"{name}.log", "w")
        child = start_process(name, process_env(app, redis_url, tmp_path, **env), stdout=log, stderr=log)
        started.append((child, log))
        return child

    yield start
    for child, log in started:
        stop_process(child)
        log.close()


def routed(app, conversation_id: int) -> bool:
    """Whether the conversation has been routed (it is open)."""
    with app.app_context():
        try:
            return db.session.scalar(sa.select(Conversation.status).where(Conversation.id == conversation_id)) == "open"
        finally:
            db.session.remove()


def post_and_dispatch(app, deliver, author: str) -> int:
    """Post from a new author and hand the outbox to RQ; returns the conversation id."""
    response = deliver(make_post(author={"id": author, "handle": author}))
    assert response.status_code == 202
    with app.app_context():
        assert dispatch_once(100)
        db.session.remove()
    return response.get_json()["conversation_id"]


def job_status(app, job_id: str):
    """The job's status as Redis has it now."""
    with app.app_context():
        return Job.fetch(job_id, connection=job_queue().connection).get_status()


@pytest.mark.slow
def test_worker_outlives_a_redis_outage_in_the_middle_of_a_job(app, deliver, private_redis, process, tmp_path):
    """Redis stops while the worker runs a job: the worker stays up, queues the interrupted job again
    once Redis is back (it finishes), and routes posts sent after the outage."""
    worker = process("worker")
    assert wait_for(lambda: routed(app, post_and_dispatch(app, deliver, "before")), timeout=60)
    with app.app_context():
        job_id = job_queue().enqueue(time.sleep, 2).id
    assert wait_for(lambda: job_status(app, job_id) == JobStatus.STARTED, timeout=20)
    with private_redis.down():
        time.sleep(OUTAGE_SECONDS)  # the job ends meanwhile, and RQ cannot record it
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()
    assert wait_for(lambda: job_status(app, job_id) == JobStatus.FINISHED, timeout=60), \
        (tmp_path / "worker.log").read_text()
    after = post_and_dispatch(app, deliver, "after")
    assert wait_for(lambda: routed(app, after), timeout=60), (tmp_path / "worker.log").read_text()
    assert worker.poll() is None
    assert "does not answer" in (tmp_path / "worker.log").read_text()


@pytest.mark.slow
def test_scheduler_outlives_a_redis_outage_when_a_job_falls_due(app, private_redis, process, tmp_path):
    """Periodic jobs fall due while Redis is down: the scheduler stays up and enqueues them once it is back."""
    scheduler = process("scheduler", SWITCHBOARD_SWEEP_INTERVAL_SECONDS="1")
    with app.app_context():
        queue_key = job_queue().key
    redis = Redis.from_url(private_redis.url)
    assert wait_for(lambda: redis.llen(queue_key) > 0, timeout=30), (tmp_path / "scheduler.log").read_text()
    redis.close()
    with private_redis.down():
        time.sleep(OUTAGE_SECONDS)  # the sweep falls due every second meanwhile
        assert scheduler.poll() is None, (tmp_path / "scheduler.log").read_text()
    redis = Redis.from_url(private_redis.url)
    redis.delete(queue_key)
    assert wait_for(lambda: redis.llen(queue_key) > 0, timeout=60), (tmp_path / "scheduler.log").read_text()
    redis.close()
    assert scheduler.poll() is None


def test_a_database_outage_is_waited_out_and_the_loop_runs_again(monkeypatch, caplog):
    """The loop raises a database error; keep_running checks with a growing wait until the database
    answers, says so in the log, and runs the loop again, which then stops on request."""
    answers = iter(["the database", "the database", None])
    monkeypatch.setattr(outages, "unreachable", lambda database=True: next(answers))
    waits = []
    monkeypatch.setattr(outages.time, "sleep", waits.append)
    runs = []

    def run() -> bool:
        runs.append(True)
        if len(runs) == 1:
            raise sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))
        return True

    with caplog.at_level("WARNING", logger=outages.__name__):
        outages.keep_running(run, "worker")
    assert len(runs) == 2
    assert waits == [0.5, 0.5, 1.0]  # the pause after the failure, then a doubling wait per miss
    assert "the database does not answer" in caplog.text and "carrying on" in caplog.text


def test_a_stop_asked_for_before_an_outage_is_not_lost_waiting_for_redis(monkeypatch, caplog):
    """A worker told to stop (SIGTERM) whose last job an outage then cuts short stops, instead of waiting for
    Redis to come back (the soak found such workers left running after their stack was gone)."""
    monkeypatch.setattr(outages, "unreachable", lambda database=True: "Redis")
    monkeypatch.setattr(outages.time, "sleep", lambda seconds: pytest.fail("waited for Redis after a stop"))
    runs = []

    def run() -> bool:
        runs.append(True)
        raise RedisConnectionError("Connection refused")

    with caplog.at_level("WARNING", logger=outages.__name__):
        outages.keep_running(run, "worker", stop_requested=lambda: True)
    assert len(runs) == 1 and "stopping as asked" in caplog.text


def outbox_empty(app) -> bool:
    """Whether every outbox row was handed to RQ."""
    with app.app_context():
        try:
            return not db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEntry))
        finally:
            db.session.remove()


def test_the_dispatcher_backs_off_through_a_redis_outage_says_so_once_and_drains_after(
        app, deliver, private_redis, caplog):
    """Posts that keep arriving while Redis is down do not each wake the dispatcher into another failing
    call: the outage is one warning line (no traceback) and one when it works again, and the outbox drains."""
    caplog.set_level(logging.WARNING, logger="workspace.jobs.dispatch")
    dispatcher = app.extensions["dispatcher"] = Dispatcher(app)
    try:
        with private_redis.down():
            for n in range(30):
                assert deliver(make_post(author={"id": f"during{n}", "handle": "d"})).status_code == 202
                time.sleep(0.02)  # a steady trickle, each post waking the dispatcher
            assert not outbox_empty(app)
        assert wait_for(lambda: outbox_empty(app))
    finally:
        dispatcher.stop()
    lines = [record for record in caplog.records if record.name == "workspace.jobs.dispatch"]
    assert [record.getMessage().split(" (")[0] for record in lines][:1] == ["outbox dispatch failed"]
    assert sum("failed" in record.getMessage() for record in lines) == 1 and not lines[0].exc_info
    assert "works again" in lines[-1].getMessage()
    with app.app_context():
        assert len(job_queue().job_ids) >= 1
