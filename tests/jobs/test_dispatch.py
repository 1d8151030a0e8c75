"""The dispatcher's batches adapt to the workers: held while the last job waits, never for longer than allowed."""

import time

import pytest
import sqlalchemy as sa

from tests.factories import make_post
from workspace.extensions import db
from workspace.infra.broker import job_queue
from workspace.jobs.dispatch import Dispatcher, route_job_id
from workspace.models import OutboxEntry


def outbox_size(app) -> int:
    with app.app_context():
        try:
            return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEntry))
        finally:
            db.session.remove()


def wait_until_outbox_is_empty(app) -> None:
    deadline = time.monotonic() + 10
    while outbox_size(app) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert outbox_size(app) == 0


@pytest.fixture
def dispatcher(app):
    """The in-process dispatcher thread, as a web process runs it."""
    dispatcher = app.extensions["dispatcher"] = Dispatcher(app)
    yield dispatcher
    dispatcher.stop()


def test_new_posts_gather_while_the_last_job_waits_for_a_worker(app, deliver, dispatcher, run_jobs, redis):
    """With every worker busy (here: none running), later posts stay in the outbox and then
    leave together as one job once a worker takes the waiting one."""
    app.config["DISPATCH_HOLD_SECONDS"] = 60
    first = deliver(make_post()).get_json()["conversation_id"]
    wait_until_outbox_is_empty(app)
    later = [deliver(make_post(author={"id": f"later{n}", "handle": "l"})).get_json()["conversation_id"]
             for n in range(2)]
    time.sleep(0.5)  # time for the woken dispatcher to have enqueued them, were it not holding
    assert outbox_size(app) == 2
    with app.app_context():
        assert job_queue().job_ids == [route_job_id([first])]
    run_jobs()  # a worker takes the first job; the dispatcher then sends the rest as one
    wait_until_outbox_is_empty(app)
    run_jobs()
    with app.app_context():
        finished = set(job_queue().finished_job_registry.get_job_ids())
    # Routing jobs only: routed conversations also queue jobs of their own (notifications).
    assert {job for job in finished if job.startswith("route-")} == {route_job_id([first]), route_job_id(later)}


def test_a_hold_ends_when_its_time_is_up(app, deliver, dispatcher, redis):
    """Even with no worker ever taking the last job, new posts are enqueued after the hold time."""
    app.config["DISPATCH_HOLD_SECONDS"] = 0.1
    deliver(make_post())
    wait_until_outbox_is_empty(app)
    deliver(make_post(author={"id": "second", "handle": "s"}))
    wait_until_outbox_is_empty(app)
    with app.app_context():
        assert len(job_queue().job_ids) == 2


def test_dispatchers_racing_over_one_outbox_enqueue_each_row_once(app, deliver, monkeypatch):
    """Three dispatchers draining the same outbox at once (as in several web processes) hand each
    row to RQ exactly once: a batch is claimed before it is enqueued."""
    import threading

    from workspace.jobs import dispatch

    expected = sorted(deliver(make_post(author={"id": f"racer{n}", "handle": "r"})).get_json()["conversation_id"]
                      for n in range(60))
    enqueued, lock = [], threading.Lock()

    def slow_enqueue(conversation_ids, request_ids=None):
        time.sleep(0.005)  # a Redis round trip, widened so the dispatchers overlap
        with lock:
            enqueued.extend(conversation_ids)
        return "job"

    monkeypatch.setattr(dispatch, "enqueue_routing", slow_enqueue)
    failures = []

    def drain():
        with app.app_context():
            try:
                while dispatch.dispatch_once(5):
                    pass
            except Exception as error:  # noqa: BLE001 - reported below, not lost in the thread
                failures.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=drain) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures
    assert sorted(enqueued) == expected
    assert outbox_size(app) == 0


def test_a_failed_enqueue_leaves_the_claimed_rows_in_the_outbox(app, deliver, monkeypatch):
    """When Redis refuses the job, the claimed rows go back: the next dispatch sends them."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    from workspace.jobs import dispatch

    conversation_id = deliver(make_post()).get_json()["conversation_id"]

    def refuse(conversation_ids, request_ids=None):
        raise RedisConnectionError("down")

    monkeypatch.setattr(dispatch, "enqueue_routing", refuse)
    with app.app_context(), pytest.raises(RedisConnectionError):
        dispatch.dispatch_once(10)
    assert outbox_size(app) == 1
    monkeypatch.setattr(dispatch, "enqueue_routing", lambda ids, request_ids=None: "job")
    with app.app_context():
        assert dispatch.dispatch_once(10) == [conversation_id]
    assert outbox_size(app) == 0
