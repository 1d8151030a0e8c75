"""Kept queue counts: equal to COUNT(*) after any mix of changes, by any path, alone or concurrently."""

import random
import threading

import pytest
import sqlalchemy as sa

from tests.factories import make_post
from tests.models.test_migrations import MIGRATIONS, add_channel_and_author, database_at
from workspace.errors import ValidationError
from workspace.extensions import db
from workspace.models import Agent, Conversation, Correction, Message, OutboxEntry, Queue, QueueCount
from workspace.models import counts as counts_service
from workspace.models.counts import fold_counts, queue_counts
from workspace.services.conversations.actions import assign, move_conversation, set_status
from workspace.services.conversations.claims import get_next
from workspace.services.conversations.replies import reply
from workspace.services.triage.decisions import route_conversations

QUEUES = ("triage", "billing", "tech")


def actual_counts() -> dict[int, dict]:
    """The counts worked out in Python from every conversation row: what the kept counts must equal."""
    result = {queue_id: {"open": 0, "unassigned": 0, "pending": 0, "at_risk": 0}
              for queue_id in db.session.scalars(sa.select(Queue.id))}
    for queue_id, status, assignee_id, sla_status in db.session.execute(
            sa.select(Conversation.queue_id, Conversation.status, Conversation.assignee_id, Conversation.sla_status)):
        if queue_id is None:
            continue
        counts = result[queue_id]
        if status == "open":
            counts["open"] += 1
            counts["unassigned"] += assignee_id is None
            counts["at_risk"] += sla_status in ("at_risk", "breached")
        counts["pending"] += status == "pending"
    return result


def assert_counts_match(app) -> dict[int, dict]:
    """Kept counts (and the bounded at-risk count, below its cap) equal the rows' own counts; returns them."""
    expected = actual_counts()
    assert queue_counts(sorted(expected)) == expected
    db.session.rollback()
    return expected


@pytest.fixture
def staff(app, channel):
    """A supervisor and an admin (both work every queue); returns their ids."""
    with app.app_context():
        people = [Agent(email="sup@example.com", name="Sup", role="supervisor"),
                  Agent(email="adm@example.com", name="Adm", role="admin")]
        db.session.add_all(people)
        db.session.commit()
        return [person.id for person in people]


def route_everything() -> None:
    route_conversations(list(db.session.scalars(sa.select(Conversation.id))))


def test_counts_equal_count_star_after_a_random_mix_of_changes(app, deliver, staff):
    """Ingest, re-opens, routing, moves, status, assignment, get-next, replies, a bulk UPDATE
    and a delete, in a random order: after each one the kept counts equal COUNT(*)."""
    rng = random.Random(4)
    with app.app_context():
        def actor():  # looked up afresh: a webhook delivered in between ends the session
            return db.session.get(Agent, staff[0])

        def any_conversation():
            ids = db.session.scalars(sa.select(Conversation.id).where(Conversation.status != "new")).all()
            return db.session.get(Conversation, rng.choice(ids)) if ids else None

        def ingest():
            mention = rng.choice(["@billing ", "@tech ", ""])
            thread = rng.choice([None, None, f"t{rng.randint(0, 8)}"])  # a known thread re-opens a resolved one
            post = make_post(text=f"{mention}help {rng.random()}", thread_id=thread,
                             author={"id": f"a{rng.randint(0, 15)}", "handle": "someone"})
            assert deliver(post).status_code in (200, 202)

        def bulk_resolve():  # a path that knows nothing about counts
            ids = db.session.scalars(sa.select(Conversation.id).where(Conversation.queue_id.is_not(None))).all()
            chosen = rng.sample(ids, min(len(ids), 3))
            db.session.execute(sa.update(Conversation).where(Conversation.id.in_(chosen)).values(status="resolved"))
            db.session.commit()

        def delete_one():
            conversation = any_conversation()
            if conversation is not None:
                for model in (OutboxEntry, Message, Correction):
                    db.session.execute(sa.delete(model).where(model.conversation_id == conversation.id))
                db.session.delete(conversation)
                db.session.commit()

        def act(change):
            conversation = any_conversation()
            if conversation is not None:
                change(conversation)

        operations = [
            ingest, ingest, ingest, route_everything, route_everything, bulk_resolve, delete_one, fold_counts,
            lambda: act(lambda c: move_conversation(c, rng.choice(QUEUES), actor())),
            lambda: act(lambda c: set_status(c, rng.choice(["open", "pending", "resolved", "spam"]), actor())),
            lambda: act(lambda c: set_status(c, "pending", actor())),
            lambda: act(lambda c: set_status(c, "open", actor())),
            lambda: act(lambda c: assign(c, rng.choice([*staff, None]), actor())),
            lambda: act(lambda c: reply(c, "on it", actor())),
            lambda: get_next(actor()),
        ]
        seen = {"open": 0, "unassigned": 0, "pending": 0}
        for _ in range(150):
            try:
                rng.choice(operations)()
            except ValidationError:  # e.g. a status change while still being routed: refused, nothing written
                db.session.rollback()
            for counts in assert_counts_match(app).values():
                seen = {name: max(seen[name], counts[name]) for name in seen}
        assert min(seen.values()) > 0  # the mix did reach every kind of count


def test_counts_stay_exact_under_concurrent_agents(app, deliver, staff):
    """Four agents changing conversations at once (some the same ones) leave counts equal to COUNT(*)."""
    for number in range(24):
        deliver(make_post(text=f"@{QUEUES[number % 3]} question {number}",
                          author={"id": f"c{number}", "handle": f"c{number}"}))
    with app.app_context():
        route_everything()
        ids = db.session.scalars(sa.select(Conversation.id)).all()
    errors = []

    def agent_at_work(seed: int) -> None:
        rng = random.Random(seed)
        with app.app_context():
            try:
                for _ in range(25):
                    actor = db.session.get(Agent, staff[seed % 2])
                    conversation = db.session.get(Conversation, rng.choice(ids))
                    change = rng.choice([
                        lambda c, a: set_status(c, rng.choice(["open", "pending", "resolved"]), a),
                        lambda c, a: assign(c, rng.choice([*staff, None]), a),
                        lambda c, a: move_conversation(c, rng.choice(QUEUES), a),
                        lambda c, a: get_next(a),
                    ])
                    change(conversation, actor)
                    db.session.remove()
            except Exception as error:  # reported to the test below
                errors.append(error)
            finally:
                db.session.remove()

    workers = [threading.Thread(target=agent_at_work, args=(seed,)) for seed in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    with app.app_context():
        assert_counts_match(app)


def test_folding_keeps_the_counts_and_shrinks_the_rows(app, deliver, staff, monkeypatch):
    """A queue's many count rows become one with the same sums; quiet queues are left alone."""
    for number in range(12):
        deliver(make_post(text=f"@billing refund {number}", author={"id": f"f{number}", "handle": "f"}))
    with app.app_context():
        route_everything()  # 12 rows, under the fold threshold routing applies
        monkeypatch.setattr(counts_service, "FOLD_AFTER", 5)
        billing = db.session.scalar(sa.select(Queue.id).where(Queue.slug == "billing"))
        before = queue_counts([billing])
        assert db.session.scalar(sa.select(sa.func.count()).where(QueueCount.queue_id == billing)) == 12
        assert fold_counts() == 1
        assert db.session.scalar(sa.select(sa.func.count()).where(QueueCount.queue_id == billing)) == 1
        assert queue_counts([billing]) == before == {billing: {"open": 12, "unassigned": 12, "pending": 0,
                                                               "at_risk": 0}}
        assert fold_counts() == 0


def test_at_risk_counting_stops_at_the_cap(app, deliver, staff, monkeypatch):
    """Past the cap the at-risk count reads as the cap (the console shows 'cap - 1 +'); below it, exact."""
    monkeypatch.setattr(counts_service, "AT_RISK_CAP", 3)
    for number in range(5):
        deliver(make_post(text=f"@billing urgent outage {number}", author={"id": f"r{number}", "handle": "r"}))
    with app.app_context():
        route_everything()
        billing = db.session.scalar(sa.select(Queue.id).where(Queue.slug == "billing"))
        db.session.execute(sa.update(Conversation).values(sla_status="breached"))
        db.session.commit()
        assert queue_counts([billing])[billing]["at_risk"] == 3
        monkeypatch.setattr(counts_service, "AT_RISK_CAP", 1000)
        assert queue_counts([billing])[billing]["at_risk"] == 5


def test_recount_repairs_counts_that_went_wrong(app, runner, deliver, staff):
    """`flask queue recount` rebuilds the counts from the rows and says which queues were off."""
    for number in range(3):
        deliver(make_post(text=f"@tech bug {number}", author={"id": f"b{number}", "handle": "b"}))
    with app.app_context():
        route_everything()
        tech = db.session.scalar(sa.select(Queue.id).where(Queue.slug == "tech"))
        db.session.add(QueueCount(queue_id=tech, open=40, unassigned=0, pending=-2))  # say, a restored backup
        db.session.commit()
    result = runner.invoke(args=["queue", "recount"])
    assert result.exit_code == 0, result.output
    assert "tech: open 43 -> 3, pending -2 -> 0" in result.output
    assert "1 queue(s) were off" in result.output
    with app.app_context():
        assert_counts_match(app)
    assert "0 queue(s) were off" in runner.invoke(args=["queue", "recount"]).output


def test_the_queue_list_shows_kept_counts(app, deliver, staff, api):
    """GET /queues reports the kept counts, and they follow an agent's change."""
    for number in range(2):
        deliver(make_post(text=f"@billing charge {number}", author={"id": f"q{number}", "handle": "q"}))
    with app.app_context():
        route_everything()
        set_status(db.session.scalars(sa.select(Conversation)).first(), "pending", db.session.get(Agent, staff[0]))
    billing = next(q for q in api("/queues").get_json()["data"] if q["slug"] == "billing")
    assert billing["counts"] == {"open": 1, "unassigned": 1, "pending": 1, "at_risk": 0}


def test_upgrading_counts_what_is_already_there_and_keeps_counting(app):
    """Migration 0011 fills the counts from existing conversations, and its triggers count what follows."""
    from flask_migrate import upgrade

    with app.app_context():
        database_at("0005")
        with db.engine.begin() as connection:
            add_channel_and_author(connection)
            connection.execute(sa.text("INSERT INTO queues (id, slug, name, description, created_at) "
                                       "VALUES (1, 'q', 'q', '', CURRENT_TIMESTAMP)"))
            for number, status in enumerate(["open", "open", "pending", "resolved"], start=1):
                connection.execute(sa.text(
                    "INSERT INTO conversations (id, channel_id, author_id, queue_id, status, priority, priority_score,"
                    " subject, tags, sla_due_at, created_at, updated_at, last_message_at) VALUES (:id, 1, 1, 1, "
                    ":status, 2, 0, '', '[]', '9999-12-31 00:00:00', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP)"), {"id": number, "status": status})
        upgrade(directory=MIGRATIONS)
        assert queue_counts([1])[1] == {"open": 2, "unassigned": 2, "pending": 1, "at_risk": 0}
        db.session.execute(sa.update(Conversation).where(Conversation.id == 4).values(status="open"))
        db.session.commit()
        assert queue_counts([1])[1] == {"open": 3, "unassigned": 3, "pending": 1, "at_risk": 0}
        db.session.rollback()
        with db.engine.begin() as connection:
            connection.execute(sa.text("DROP TABLE alembic_version"))
