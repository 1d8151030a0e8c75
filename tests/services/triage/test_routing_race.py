"""Two workers routing the same conversation at once: one routes, counts and announces it; the other
sees it was done."""

import sqlalchemy as sa

from tests.factories import deliver_and_dispatch, make_post
from workspace.extensions import db
from workspace.models import Conversation, VolumeCount
from workspace.services.triage import decisions


def queue_volume(app) -> int:
    """Posts counted in the per-queue volume rollup."""
    with app.app_context():
        try:
            return db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(VolumeCount.posts), 0))
                                     .where(VolumeCount.kind == "queue"))
        finally:
            db.session.remove()


def created_ids(emitted) -> list[int]:
    """Ids announced by conversation.created events, in order."""
    return [c["id"] for name, _, data in emitted if name == "conversation.created" for c in data["conversations"]]


def test_a_conversation_another_worker_routes_meanwhile_is_routed_once(app, deliver, emitted, monkeypatch):
    """Another worker routes the conversation after this job read it and before it writes: this job
    then routes nothing, so there is one conversation.created and the volume counts one post."""
    conversation_id = deliver_and_dispatch(app, deliver, make_post(text="@billing charged twice"))
    original, raced = decisions.message_texts, []

    def texts_after_another_worker_routed(message_ids):
        if not raced:
            raced.append(True)
            with app.app_context():  # another worker: its own session and connection
                assert decisions.route_conversations([conversation_id]) == {"routed": 1, "skipped": 0}
                db.session.remove()
        return original(message_ids)

    monkeypatch.setattr(decisions, "message_texts", texts_after_another_worker_routed)
    with app.app_context():
        assert decisions.route_conversations([conversation_id]) == {"routed": 0, "skipped": 1}
        db.session.remove()
    assert raced and created_ids(emitted) == [conversation_id]
    assert queue_volume(app) == 1
    with app.app_context():
        row = db.session.get(Conversation, conversation_id)
        assert row.status == "open" and row.queue.slug == "billing"


def test_a_follow_up_is_still_routed_when_another_worker_took_the_first_post(app, deliver, emitted, monkeypatch):
    """This job saw a follow-up that the other worker did not: having lost the first claim, it reads the
    conversation again and routes the follow-up as an update, not a second creation."""
    first = make_post(text="@billing charged twice")
    conversation_id = deliver_and_dispatch(app, deliver, first)
    original_latest, original_texts, raced = decisions.latest_inbound, decisions.message_texts, []

    def texts_after_another_worker_routed(message_ids):
        if not raced:
            raced.append(True)
            with app.app_context():  # the other worker read before the follow-up arrived
                monkeypatch.setattr(decisions, "latest_inbound",
                                    lambda ids: {cid: mid - 1 for cid, mid in original_latest(ids).items()})
                assert decisions.route_conversations([conversation_id])["routed"] == 1
                monkeypatch.setattr(decisions, "latest_inbound", original_latest)
                db.session.remove()
        return original_texts(message_ids)

    follow_up = make_post(text="still waiting", author=first["author"])
    assert deliver_and_dispatch(app, deliver, follow_up) == conversation_id
    monkeypatch.setattr(decisions, "message_texts", texts_after_another_worker_routed)
    with app.app_context():
        assert decisions.route_conversations([conversation_id]) == {"routed": 1, "skipped": 0}
        row = db.session.get(Conversation, conversation_id)
        assert row.routed_message_id == max(m.id for m in row.messages if m.direction == "inbound")
        db.session.remove()
    assert created_ids(emitted) == [conversation_id]
    updated = [c["id"] for name, room, data in emitted
               if name == "conversation.updated" and room.startswith("queue:") for c in data["conversations"]]
    assert updated == [conversation_id]
    assert queue_volume(app) == 2
