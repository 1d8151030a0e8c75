"""Merging index ranges in work order: get-next and the depth drill-down read each range's head, not the backlog."""

from datetime import timedelta

import sqlalchemy as sa

from workspace.extensions import db
from workspace.models import Author, Channel, Conversation, Queue, utcnow
from workspace.services.conversations.queues import first_in_order


def _store(app) -> dict[str, int]:
    """Two queues of open and pending conversations of mixed priorities: subject -> id."""
    now = utcnow()
    with app.app_context():
        channel = Channel(slug="web", name="Web", secret="s")
        queues = [Queue(slug="a", name="A"), Queue(slug="b", name="B")]
        db.session.add_all([channel, *queues])
        db.session.flush()
        author = Author(channel_id=channel.id, external_id="u", handle="u")
        db.session.add(author)
        db.session.flush()
        rows = [  # subject, queue, status, priority, minutes until due
            ("a-normal", 0, "open", 2, 10), ("a-urgent", 0, "open", 0, 50), ("a-pending-high", 0, "pending", 1, 5),
            ("b-high", 1, "open", 1, 30), ("b-urgent-later", 1, "open", 0, 90), ("b-low", 1, "open", 3, 1),
        ]
        made = {subject: Conversation(channel_id=channel.id, author_id=author.id, queue_id=queues[q].id,
                                      status=status, priority=priority, subject=subject,
                                      sla_due_at=now + timedelta(minutes=due), created_at=now)
                for subject, q, status, priority, due in rows}
        db.session.add_all(made.values())
        db.session.commit()
        return {subject: c.id for subject, c in made.items()}


def test_the_heads_of_several_ranges_come_back_in_work_order(app):
    """Across queues (or statuses), the result is the global work order: priority, then due time; cut at the limit."""
    ids = _store(app)
    names = {v: k for k, v in ids.items()}
    with app.app_context():
        queues = dict(db.session.execute(sa.select(Queue.slug, Queue.id)).all())
        by_queue = [[Conversation.queue_id == queues[slug], Conversation.status == "open"] for slug in ("a", "b")]
        assert [names[i] for i in first_in_order(by_queue, 10)] == [
            "a-urgent", "b-urgent-later", "b-high", "a-normal", "b-low"]
        assert [names[i] for i in first_in_order(by_queue, 2)] == ["a-urgent", "b-urgent-later"]
        by_status = [[Conversation.queue_id == queues["a"], Conversation.status == s] for s in ("open", "pending")]
        assert [names[i] for i in first_in_order(by_status, 10)] == ["a-urgent", "a-pending-high", "a-normal"]
        assert first_in_order([], 10) == []
