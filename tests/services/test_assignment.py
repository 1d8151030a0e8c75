"""Automatic assignment: strategies, capacity, presence, explanations, atomicity and giving work back."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.factories import make_post
from workspace.extensions import db
from workspace.live import presence
from workspace.models import Agent, Assignment, Author, Channel, Conversation, Message, Queue, queue_members
from workspace.services import assignment

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture(autouse=True)
def no_presence(redis):
    """Agents' presence lives in the shared test Redis: start and end each test with nobody seen."""
    redis.delete(presence.AGENTS_KEY)
    yield
    redis.delete(presence.AGENTS_KEY)


@pytest.fixture
def floor(ctx):
    """A billing queue (round robin), a forum channel with one customer, and a helper to add agents."""
    db.session.add_all([Channel(slug="forum", name="Forum", kind="native", secret="s"),
                        Queue(slug="billing", name="Billing", assignment="round_robin"),
                        Queue(slug="tech", name="Tech")])
    db.session.flush()
    db.session.add(Author(channel_id=1, external_id="u1", handle="maya", name="Maya"))
    db.session.commit()
    return db.session.scalar(sa.select(Queue).where(Queue.slug == "billing"))


def agent(name: str, *queues: Queue, capacity: int = 10, status: str | None = "online",
          queue_capacity: int | None = None) -> Agent:
    """An agent working these queues, with their console's status (None: never connected)."""
    row = Agent(email=f"{name.lower()}@example.com", name=name, capacity=capacity, queues=list(queues))
    db.session.add(row)
    db.session.commit()
    if queue_capacity is not None:
        db.session.execute(sa.update(queue_members).where(queue_members.c.agent_id == row.id)
                           .values(capacity=queue_capacity))
        db.session.commit()
    if status is not None:
        presence.agent_heartbeat(row.id, status, NOW.timestamp())
    return row


def waiting(queue: Queue, count: int, *, assignee: Agent | None = None) -> list[int]:
    """Open conversations in the queue (unassigned unless given an assignee)."""
    rows = [Conversation(channel_id=1, author_id=1, queue=queue, status="open", assignee=assignee,
                         assigned_at=NOW if assignee else None, created_at=NOW + timedelta(seconds=i))
            for i in range(count)]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


def loads() -> dict[str, int]:
    rows = db.session.execute(sa.select(Agent.name, sa.func.count(Conversation.id))
                              .join(Conversation, Conversation.assignee_id == Agent.id)
                              .where(Conversation.status == "open").group_by(Agent.name)).all()
    return dict(rows)


def test_round_robin_spreads_evenly_in_turn(floor):
    """Thirty conversations among three online agents: ten each, handed out in rotation."""
    ana, bob, cy = (agent(name, floor) for name in ("Ana", "Bob", "Cy"))
    waiting(floor, 30)
    assert assignment.assign_waiting(now=NOW) == 30
    assert loads() == {"Ana": 10, "Bob": 10, "Cy": 10}
    order = db.session.scalars(sa.select(Assignment.agent_id).order_by(Assignment.id).limit(6)).all()
    assert order == [ana.id, bob.id, cy.id] * 2
    first = db.session.scalar(sa.select(Assignment).order_by(Assignment.id))
    assert first.kind == "assigned" and "longest since last assignment" in first.reason


def test_round_robin_resumes_with_whoever_waited_longest(floor):
    """After a restart the turn is kept in the database: the agent assigned longest ago goes next."""
    ana, bob = agent("Ana", floor), agent("Bob", floor)
    waiting(floor, 1)
    assignment.assign_waiting(now=NOW)
    waiting(floor, 1)
    assignment.assign_waiting(now=NOW + timedelta(seconds=10))
    waiting(floor, 1)
    assignment.assign_waiting(now=NOW + timedelta(seconds=20))
    assert db.session.scalars(sa.select(Assignment.agent_id).order_by(Assignment.id)).all() == [ana.id, bob.id, ana.id]


def test_least_loaded_gives_each_to_the_largest_share_of_spare_capacity(floor):
    """With Ana 4/10, Bob 0/5, Cy 8/10, eight new ones go B B A B A B A A, ending with 20% spare each."""
    floor.assignment = "least_loaded"
    ana, bob, cy = agent("Ana", floor), agent("Bob", floor, capacity=5), agent("Cy", floor)
    waiting(floor, 4, assignee=ana)
    waiting(floor, 8, assignee=cy)
    waiting(floor, 8)
    assert assignment.assign_waiting(now=NOW) == 8
    order = db.session.scalars(sa.select(Assignment.agent_id).order_by(Assignment.id)).all()
    names = {ana.id: "A", bob.id: "B", cy.id: "C"}
    assert "".join(names[i] for i in order) == "BBABABAA"
    assert loads() == {"Ana": 8, "Bob": 4, "Cy": 8}
    for row in db.session.scalars(sa.select(Assignment)):
        chosen = next(c for c in row.candidates if c["outcome"] == "chosen")
        spare = {c["name"]: 1 - c["load"] / c["capacity"] for c in row.candidates if c["outcome"] != "at_capacity"}
        assert spare[chosen["name"]] == max(spare.values())


def test_nobody_goes_over_capacity_and_the_rest_wait(floor):
    """Two agents of capacity 2 take four of ten; an agent's per-queue capacity caps them in that queue."""
    agent("Ana", floor, capacity=2)
    agent("Bob", floor, capacity=5, queue_capacity=2)
    waiting(floor, 10)
    assert assignment.assign_waiting(now=NOW) == 4
    assert loads() == {"Ana": 2, "Bob": 2}
    assert db.session.scalar(sa.select(sa.func.count()).where(Conversation.assignee_id.is_(None))) == 6


def test_each_assignment_explains_the_choice_and_every_skip(floor, client, token):
    """Offline, away, full and not-in-queue agents are named with their reason, in the conversation's API view."""
    other = db.session.scalar(sa.select(Queue).where(Queue.slug == "tech"))
    agent("Ana", floor)
    agent("Bob", floor, status="away")
    agent("Cy", floor, status=None)  # never connected
    agent("Dee", floor, capacity=1)
    agent("Eve", other)
    waiting(floor, 1, assignee=db.session.scalar(sa.select(Agent).where(Agent.name == "Dee")))
    (conversation_id,) = waiting(floor, 1)
    assert assignment.assign_waiting(now=NOW) == 1
    body = client.get(f"/api/v1/conversations/{conversation_id}",
                      headers={"Authorization": f"Bearer {token}"}).get_json()
    why = body["assignment"]
    assert why["agent"]["name"] == "Ana" and why["strategy"] == "round_robin"
    outcomes = {c["name"]: (c["outcome"], c["reason"]) for c in why["candidates"]}
    assert outcomes["Ana"][0] == "chosen"
    assert outcomes["Bob"] == ("away", "is away")
    assert outcomes["Cy"] == ("offline", "is offline")
    assert outcomes["Dee"][0] == "at_capacity" and "1 open" in outcomes["Dee"][1]
    assert outcomes["Eve"] == ("not_in_queue", "does not work Billing")
    assert outcomes["Ada"][0] == "not_in_queue"  # the admin whose token reads it
    history = client.get(f"/api/v1/conversations/{conversation_id}/assignments",
                         headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [row["kind"] for row in history["data"]] == ["assigned"]


def test_a_stale_count_cannot_push_an_agent_past_capacity(floor, app):
    """The capacity check is inside the UPDATE: work given meanwhile by another worker is counted."""
    ana = agent("Ana", floor, capacity=2)
    (target,) = waiting(floor, 1)
    candidates = assignment.candidates_for(floor, presence.agent_states(NOW.timestamp()))
    chosen, considered = assignment.choose(floor, candidates)
    assert chosen.id == ana.id and chosen.load == 0
    waiting(floor, 2, assignee=ana)  # another worker filled her up after we counted
    assert assignment._claim(target, chosen, floor, considered, NOW) == "full"
    assert db.session.get(Conversation, target).assignee_id is None


def test_concurrent_workers_never_over_assign(floor, app):
    """Four threads assigning the same queue at once leave every agent at or under capacity, each conversation once."""
    agent("Ana", floor, capacity=7)
    agent("Bob", floor, capacity=5)
    waiting(floor, 40)
    db.session.remove()
    totals, errors = [], []

    def work():
        with app.app_context():
            try:
                for _ in range(5):
                    totals.append(assignment.assign_waiting(now=NOW))
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert loads() == {"Ana": 7, "Bob": 5} and sum(totals) == 12
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 12


def test_untouched_work_of_an_agent_gone_too_long_returns_to_the_queue(floor, app):
    """Offline past the delay, Ana's two unanswered conversations go back; the one she replied to stays."""
    app.config["ASSIGNMENT_RETURN_SECONDS"] = 600
    ana = agent("Ana", floor)
    kept, *untouched = waiting(floor, 3, assignee=ana)
    db.session.add(Message(conversation_id=kept, channel_id=1, agent_id=ana.id, direction="outbound", text="hi",
                           created_at=NOW + timedelta(minutes=1), received_at=NOW + timedelta(minutes=1)))
    db.session.commit()
    presence.agent_connected(ana.id, NOW.timestamp())
    presence.agent_disconnected(ana.id, (NOW + timedelta(minutes=2)).timestamp())
    assert assignment.return_untouched(NOW + timedelta(minutes=5)) == 0
    assert assignment.return_untouched(NOW + timedelta(minutes=13)) == 2
    assigned = dict(db.session.execute(sa.select(Conversation.id, Conversation.assignee_id)).all())
    assert assigned[kept] == ana.id and [assigned[i] for i in untouched] == [None, None]
    returned = db.session.scalars(sa.select(Assignment).where(Assignment.kind == "returned")).all()
    assert len(returned) == 2 and "offline for 11 min" in returned[0].reason


def test_away_counts_like_offline_and_a_silent_console_goes_offline(floor, app):
    """Away for longer than the delay returns work; so does a console whose heartbeats stopped."""
    app.config["ASSIGNMENT_RETURN_SECONDS"] = 600
    ana, bob = agent("Ana", floor, status=None), agent("Bob", floor, status=None)
    waiting(floor, 1, assignee=ana)
    waiting(floor, 1, assignee=bob)
    presence.agent_heartbeat(bob.id, "online", NOW.timestamp())  # then nothing more from Bob's console
    for minute in range(12):  # Ana's console stays connected, saying she is away
        presence.agent_heartbeat(ana.id, "away", (NOW + timedelta(minutes=minute)).timestamp())
    states = presence.agent_states((NOW + timedelta(minutes=5)).timestamp())
    assert (states[ana.id], states[bob.id]) == (presence.AgentState("away", NOW.timestamp()),
                                                presence.AgentState("offline", NOW.timestamp()))
    assert assignment.return_untouched(NOW + timedelta(minutes=9)) == 0
    assert assignment.return_untouched(NOW + timedelta(minutes=11)) == 2


def test_agents_never_seen_keep_their_work(floor):
    """Without any presence record there is no telling when they left, so nothing is taken from them."""
    ana = agent("Ana", floor, status=None)
    waiting(floor, 2, assignee=ana)
    assert assignment.return_untouched(NOW + timedelta(days=1)) == 0


def test_routed_posts_are_assigned_by_the_routing_job(app, deliver, run_jobs):
    """Posts routed into a round-robin queue by a real worker are assigned to the online agents there."""
    from workspace.jobs.dispatch import dispatch_once

    with app.app_context():
        billing = db.session.scalar(sa.select(Queue).where(Queue.slug == "billing"))
        billing.assignment = "round_robin"
        db.session.commit()
        ana = Agent(email="ana@example.com", name="Ana", queues=[billing])
        bob = Agent(email="bob@example.com", name="Bob", queues=[billing])
        db.session.add_all([ana, bob])
        db.session.commit()
        for member in (ana, bob):
            presence.agent_connected(member.id)
        for number in range(4):
            deliver(make_post(text=f"@billing invoice question {number}", author={"id": f"u{number}", "handle": "x"}))
        dispatch_once(100)
    run_jobs()
    with app.app_context():
        assert sorted(loads().values()) == [2, 2]


def test_freeing_capacity_queues_an_assignment_job(floor, app, run_jobs):
    """Resolving a conversation of a full agent lets the worker give her the next waiting one."""
    from workspace.services.conversations.actions import set_status

    ana = agent("Ana", floor, capacity=1)
    (mine,) = waiting(floor, 1, assignee=ana)
    (next_one,) = waiting(floor, 1)
    presence.agent_heartbeat(ana.id, "online")  # online now, in real time, for the worker
    ana_id = ana.id
    set_status(db.session.get(Conversation, mine), "resolved", ana)
    db.session.remove()
    run_jobs()
    assert db.session.get(Conversation, next_one).assignee_id == ana_id
