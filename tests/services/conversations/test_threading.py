"""Which conversation a post joins: its thread, its parent, or its author's recent one."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from tests.factories import make_post
from workspace.extensions import db
from workspace.models import Conversation


def conversation_of(response) -> int:
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.get_json()["conversation_id"]


def test_post_with_a_known_thread_id_joins_that_thread(deliver):
    """A post naming a thread already seen joins its conversation, whoever writes it."""
    first = conversation_of(deliver(make_post(thread_id="topic-1")))
    other_author = make_post(thread_id="topic-1", author={"id": "u2", "handle": "bob"})
    assert conversation_of(deliver(other_author)) == first


def test_reply_to_a_known_post_joins_its_conversation(deliver):
    """in_reply_to an earlier post's id joins that post's conversation."""
    first = make_post(id="root")
    conversation = conversation_of(deliver(first))
    reply = make_post(in_reply_to="root", author={"id": "u3", "handle": "cy"})
    assert conversation_of(deliver(reply)) == conversation


def test_same_author_within_the_window_joins_their_open_conversation(deliver):
    """Two unthreaded posts by one author close together are one conversation."""
    now = datetime.now(UTC)
    first = conversation_of(deliver(make_post(created_at=now.isoformat())))
    later = (now + timedelta(minutes=30)).isoformat()
    assert conversation_of(deliver(make_post(created_at=later))) == first


def test_same_author_after_the_window_starts_a_new_conversation(deliver):
    """Past the window (4 h by default) the author's next post is new work."""
    now = datetime.now(UTC)
    first = conversation_of(deliver(make_post(created_at=now.isoformat())))
    much_later = (now + timedelta(hours=5)).isoformat()
    assert conversation_of(deliver(make_post(created_at=much_later))) != first


def test_other_authors_do_not_share_a_conversation(deliver):
    """Unthreaded posts of different authors never merge."""
    first = conversation_of(deliver(make_post()))
    assert conversation_of(deliver(make_post(author={"id": "u2", "handle": "bob"}))) != first


def test_new_thread_id_starts_its_own_conversation_even_for_a_recent_author(deliver):
    """A new forum topic by the same author is a separate conversation."""
    first = conversation_of(deliver(make_post(thread_id="t1")))
    assert conversation_of(deliver(make_post(thread_id="t2"))) != first


def test_post_on_a_resolved_conversation_reopens_it(app, deliver):
    """A follow-up on a resolved thread re-opens it and records routing work."""
    conversation_id = conversation_of(deliver(make_post(thread_id="t9")))
    with app.app_context():
        conversation = db.session.get(Conversation, conversation_id)
        conversation.status = "resolved"
        conversation.resolved_at = datetime.now(UTC)
        db.session.commit()
    assert conversation_of(deliver(make_post(thread_id="t9", text="Still broken!"))) == conversation_id
    with app.app_context():
        conversation = db.session.get(Conversation, conversation_id)
        assert conversation.status == "open" and conversation.resolved_at is None
        assert len(conversation.messages) == 2


def test_thread_ids_are_per_channel(app, deliver, client):
    """The same thread id on two channels is two conversations."""
    from workspace.models import Channel

    with app.app_context():
        db.session.add(Channel(slug="x", name="X", kind="native", secret="other-secret"))
        db.session.commit()
    first = conversation_of(deliver(make_post(thread_id="same")))
    second = conversation_of(deliver(make_post(thread_id="same"), slug="x", secret="other-secret"))
    assert first != second
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Conversation)) == 2
