"""Moving a conversation: audited, announced to both queues, and a labelled example for the classifier."""

import pytest
import sqlalchemy as sa

from tests.factories import make_post
from workspace.extensions import db
from workspace.jobs.dispatch import dispatch_once
from workspace.models import AuditEntry, Conversation, Correction


@pytest.fixture
def routed_id(app, deliver, run_jobs):
    """A conversation routed to billing by its @mention."""
    conversation_id = deliver(make_post(text="@billing my app crashes on start", subject="Crash")).get_json()[
        "conversation_id"]
    with app.app_context():
        dispatch_once(100)
    run_jobs()
    return conversation_id


@pytest.fixture
def patch(client, token):
    def call(conversation_id, body):
        return client.patch(f"/api/v1/conversations/{conversation_id}", json=body,
                            headers={"Authorization": f"Bearer {token}"})

    return call


def test_moving_records_a_correction_an_audit_entry_and_events(app, routed_id, patch, emitted):  # noqa: F811
    """The move is stored with the model input, audited, and both queues hear of it."""
    emitted.clear()
    response = patch(routed_id, {"queue": "tech"})
    assert response.status_code == 200 and response.get_json()["queue"] == "tech"
    with app.app_context():
        correction = db.session.scalar(sa.select(Correction))
        conversation = db.session.get(Conversation, routed_id)
        assert correction.to_queue.slug == "tech" and correction.from_queue_id == conversation.routed_queue_id
        assert "app crashes" in correction.text and "Crash" in correction.text
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "conversation.move"))
        assert (entry.before, entry.after) == ({"queue": "billing"}, {"queue": "tech"})
        queue_ids = {conversation.queue_id, conversation.routed_queue_id}
    rooms = {room for name, room, _ in emitted if name == "conversation.updated"}
    assert {f"queue:{queue_id}" for queue_id in queue_ids} <= rooms
    assert f"conversation:{routed_id}" in rooms


def test_moving_to_the_same_queue_changes_nothing(app, routed_id, patch):
    """No correction and no audit entry for a no-op move."""
    assert patch(routed_id, {"queue": "billing"}).status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Correction)) == 0


@pytest.mark.parametrize("body,status,message", [
    ({"queue": "nowhere"}, 404, "no queue named"), ({"queue": 7}, 400, "queue"), ({"colour": "red"}, 400, "colour"),
    ({}, 400, "body"), (["queue"], 400, "body"),
])
def test_bad_moves_are_refused_and_change_nothing(app, routed_id, patch, body, status, message):
    """Unknown queues (404), wrong types and fields that cannot be changed (400) are refused."""
    response = patch(routed_id, body)
    assert response.status_code == status and message in response.get_json()["error"]["message"]
    with app.app_context():
        assert db.session.get(Conversation, routed_id).queue.slug == "billing"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


def test_enough_corrections_enqueue_one_retrain_job(app, deliver, run_jobs, patch, redis):
    """Reaching RETRAIN_AFTER_CORRECTIONS enqueues the retrain job once, however many moves follow."""
    app.config["RETRAIN_AFTER_CORRECTIONS"] = 2
    ids = [deliver(make_post(text="@billing x", author={"id": f"a{n}", "handle": f"h{n}"})).get_json()[
        "conversation_id"] for n in range(3)]
    with app.app_context():
        dispatch_once(100)
    run_jobs()
    queue_key = f"rq:queue:{app.config['RQ_QUEUE']}"
    patch(ids[0], {"queue": "tech"})
    assert redis.llen(queue_key) == 0
    patch(ids[1], {"queue": "tech"})
    patch(ids[2], {"queue": "tech"})
    jobs = [job.decode() for job in redis.lrange(queue_key, 0, -1)]
    assert len(jobs) == 1 and "retrain" in jobs[0]
