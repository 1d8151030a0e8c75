"""Automatic assignment: hand a queue's waiting conversations to online agents under capacity, fairly and explained.

Strategies (per queue): round robin gives the next conversation to the member
whose last assignment in this queue is oldest; least loaded to the one with
the largest share of spare capacity (capacity minus open conversations, over
capacity). Only members who are online (console heartbeat) and under both
their own capacity and their capacity in the queue are eligible. Every
assignment is stored with the reason for the chosen agent and for each agent
skipped, so "why did Ana get all of them?" has an answer.

It runs after each routing batch, when an agent comes online or frees
capacity (a job), and periodically as a catch-up; it also gives back the
untouched conversations of agents who went offline or away.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from workspace.extensions import db
from workspace.live import presence, signals
from workspace.live.changes import Changes
from workspace.models import Agent, Assignment, Conversation, Message, Queue, queue_members, utcnow
from workspace.services.conversations.queues import ORDER

NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass
class Candidate:
    """One agent as assignment sees them for one queue."""

    id: int
    name: str
    member: bool
    presence: str  # online, away or offline
    load: int  # open conversations assigned to them, every queue
    capacity: int
    queue_load: int  # ... in this queue
    queue_capacity: int | None
    last_assigned_at: datetime | None  # in this queue

    def skipped_because(self, queue: Queue) -> tuple[str, str] | None:
        """Why this agent cannot take one more conversation now (outcome, reason), or None if they can."""
        if not self.member:
            return "not_in_queue", f"does not work {queue.name}"
        if self.presence != "online":
            return self.presence, f"is {self.presence}"
        if self.load >= self.capacity:
            return "at_capacity", f"has {self.load} open, at capacity ({self.capacity})"
        if self.queue_capacity is not None and self.queue_load >= self.queue_capacity:
            return "at_capacity", (f"has {self.queue_load} open in {queue.name}, "
                                   f"at capacity there ({self.queue_capacity})")
        return None

    @property
    def spare_share(self) -> float:
        """Spare capacity as a share of capacity (the tighter of overall and in-queue)."""
        shares = [(self.capacity - self.load) / self.capacity]
        if self.queue_capacity:
            shares.append((self.queue_capacity - self.queue_load) / self.queue_capacity)
        return min(shares)


def assign_waiting(queue_ids: list[int] | None = None, now: datetime | None = None) -> int:
    """Assign the waiting (open, unassigned) conversations of queues with assignment on, in queue order.

    Args:
        queue_ids: only these queues (None: every queue with assignment on).
        now: the moment of assignment (tests freeze it).

    Returns:
        How many conversations were assigned.
    """
    now = now or utcnow()
    query = sa.select(Queue).where(Queue.assignment != "off").order_by(Queue.id)
    if queue_ids is not None:
        query = query.where(Queue.id.in_(queue_ids))
    queues = db.session.scalars(query).all()
    if not queues:
        return 0  # the common case after a routing batch: no Redis round-trip for presence
    states = presence.agent_states(now.timestamp())
    assigned = sum(_assign_queue(queue, states, now) for queue in queues)
    db.session.rollback()
    return assigned


def _assign_queue(queue: Queue, states: dict, now: datetime) -> int:
    waiting = db.session.scalars(
        sa.select(Conversation.id)
        .where(Conversation.queue_id == queue.id, Conversation.status == "open", Conversation.assignee_id.is_(None))
        .order_by(*ORDER).limit(current_app.config["ASSIGNMENT_BATCH"])
    ).all()
    if not waiting:
        return 0
    candidates = candidates_for(queue, states)
    assigned = 0
    for conversation_id in waiting:
        while True:
            chosen, considered = choose(queue, candidates)
            if chosen is None:
                return assigned  # nobody can take more: the rest wait for capacity
            # A microsecond apart, so the order within one batch survives as "longest since".
            moment = now + timedelta(microseconds=assigned)
            result = _claim(conversation_id, chosen, queue, considered, moment)
            if result == "assigned":
                chosen.load += 1
                chosen.queue_load += 1
                chosen.last_assigned_at = moment
                assigned += 1
                break
            if result == "taken":
                break  # someone took it first (get next, another worker)
            # Full: another worker filled this agent since we counted; count again and choose again.
            chosen.load, chosen.queue_load = _loads(chosen.id, queue.id)
    return assigned


def candidates_for(queue: Queue, states: dict) -> list[Candidate]:
    """Every active agent with their membership, presence, loads and capacities for this queue."""
    memberships = {row.agent_id: row for row in db.session.execute(
        sa.select(queue_members).where(queue_members.c.queue_id == queue.id))}
    loads = {agent_id: (overall, in_queue) for agent_id, overall, in_queue in db.session.execute(
        sa.select(Conversation.assignee_id, sa.func.count(),
                  sa.func.count(sa.case((Conversation.queue_id == queue.id, 1))))
        .where(Conversation.status == "open", Conversation.assignee_id.is_not(None))
        .group_by(Conversation.assignee_id))}
    agents = db.session.scalars(sa.select(Agent).where(Agent.active.is_(True)).order_by(Agent.id)).all()
    return [Candidate(
        id=agent.id, name=agent.name, member=agent.id in memberships,
        presence=states[agent.id].status if agent.id in states else "offline",
        load=loads.get(agent.id, (0, 0))[0], capacity=agent.capacity, queue_load=loads.get(agent.id, (0, 0))[1],
        queue_capacity=memberships[agent.id].capacity if agent.id in memberships else None,
        last_assigned_at=memberships[agent.id].last_assigned_at if agent.id in memberships else None,
    ) for agent in agents]


def choose(queue: Queue, candidates: list[Candidate]) -> tuple[Candidate | None, list[dict]]:
    """Pick the agent the queue's strategy favours among those who can take one more, explaining every choice.

    Returns:
        The chosen candidate (None if nobody can take one) and one record per
        agent considered: outcome (chosen, eligible, offline, away,
        at_capacity, not_in_queue) and reason.
    """
    eligible = [c for c in candidates if c.skipped_because(queue) is None]
    if queue.assignment == "round_robin":
        key = lambda c: (c.last_assigned_at or NEVER, c.id)  # noqa: E731
    else:
        key = lambda c: (-c.spare_share, c.last_assigned_at or NEVER, c.id)  # noqa: E731
    chosen = min(eligible, key=key, default=None)
    considered = []
    for candidate in candidates:
        skipped = candidate.skipped_because(queue)
        if skipped is not None:
            outcome, reason = skipped
        elif candidate is chosen:
            outcome, reason = "chosen", _why(queue, candidate, chosen=True)
        else:
            outcome, reason = "eligible", _why(queue, candidate, chosen=False)
        considered.append({"agent_id": candidate.id, "name": candidate.name, "outcome": outcome, "reason": reason,
                           "load": candidate.load, "capacity": candidate.capacity})
    return chosen, considered


def _why(queue: Queue, candidate: Candidate, *, chosen: bool) -> str:
    if queue.assignment == "round_robin":
        last = (f"last assigned here {candidate.last_assigned_at:%Y-%m-%d %H:%M:%S} UTC"
                if candidate.last_assigned_at else "never assigned here")
        return f"longest since last assignment ({last})" if chosen else f"not their turn yet ({last})"
    spare = f"{candidate.load}/{candidate.capacity} open, {candidate.spare_share:.0%} spare"
    return f"most spare capacity ({spare})" if chosen else f"less spare capacity ({spare})"


def _loads(agent_id: int, queue_id: int) -> tuple[int, int]:
    """An agent's open conversations overall and in one queue, counted now."""
    overall, in_queue = db.session.execute(
        sa.select(sa.func.count(), sa.func.count(sa.case((Conversation.queue_id == queue_id, 1))))
        .where(Conversation.assignee_id == agent_id, Conversation.status == "open")).one()
    return overall, in_queue


def _claim(conversation_id: int, chosen: Candidate, queue: Queue, considered: list[dict], now: datetime) -> str:
    """Assign one conversation if it is still waiting and the agent still has room, atomically.

    The capacity check is part of the UPDATE itself, so it holds against
    concurrent writers: on SQLite the statement runs under the database's
    single write lock; on PostgreSQL the agent's row is locked first, so two
    workers assigning to the same agent take turns and each counts the
    other's committed work.

    Returns:
        "assigned", "taken" (no longer waiting) or "full" (the agent filled up meanwhile).
    """
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.select(Agent.id).where(Agent.id == chosen.id).with_for_update())
    other = so.aliased(Conversation)
    open_of_agent = sa.select(sa.func.count()).select_from(other).where(
        other.assignee_id == chosen.id, other.status == "open")
    conditions = [Conversation.id == conversation_id, Conversation.assignee_id.is_(None),
                  Conversation.status == "open", Conversation.queue_id == queue.id,
                  open_of_agent.scalar_subquery() < chosen.capacity]
    if chosen.queue_capacity is not None:
        conditions.append(open_of_agent.where(other.queue_id == queue.id).scalar_subquery() < chosen.queue_capacity)
    claimed = db.session.execute(
        sa.update(Conversation).where(*conditions)
        .values(assignee_id=chosen.id, assigned_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        still_waiting = db.session.scalar(sa.select(sa.func.count()).select_from(Conversation).where(
            Conversation.id == conversation_id, Conversation.assignee_id.is_(None), Conversation.status == "open"))
        db.session.rollback()
        return "full" if still_waiting else "taken"
    db.session.execute(sa.update(queue_members).where(
        queue_members.c.queue_id == queue.id, queue_members.c.agent_id == chosen.id).values(last_assigned_at=now))
    reason = f"{queue.assignment.replace('_', ' ')}: {chosen.name} {_why(queue, chosen, chosen=True)}"
    _record(conversation_id, queue, chosen.id, "assigned", reason, considered, now)
    return "assigned"


def _record(conversation_id: int, queue: Queue, agent_id: int | None, kind: str, reason: str,
            candidates: list[dict], now: datetime) -> None:
    """Store the assignment (or return), commit, and tell the rooms that care."""
    db.session.add(Assignment(conversation_id=conversation_id, queue_id=queue.id, agent_id=agent_id, kind=kind,
                              strategy=queue.assignment, reason=reason, candidates=candidates, created_at=now))
    db.session.flush()
    conversation = db.session.get(Conversation, conversation_id, populate_existing=True)
    changes = Changes()
    changes.add(conversation, "updated")
    if agent_id is not None:
        changes.request(signals.conversations_assigned, (conversation_id, None))
    db.session.commit()
    changes.publish()


def return_untouched(now: datetime | None = None) -> int:
    """Give back to their queues the untouched conversations of agents offline or away too long.

    Untouched: open, and no reply from the assignee since it was assigned.
    Agents never seen online are left alone (nothing says when they left).

    Returns:
        How many conversations went back.
    """
    now = now or utcnow()
    cutoff = now.timestamp() - current_app.config["ASSIGNMENT_RETURN_SECONDS"]
    gone = {agent_id: state for agent_id, state in presence.agent_states(now.timestamp()).items()
            if state.status != "online" and state.since <= cutoff}
    if not gone:
        return 0
    replied = sa.exists().where(Message.conversation_id == Conversation.id, Message.direction == "outbound",
                                Message.agent_id == Conversation.assignee_id,
                                Message.created_at >= Conversation.assigned_at)
    rows = db.session.execute(
        sa.select(Conversation.id, Conversation.assignee_id, Conversation.assigned_at, Conversation.queue_id)
        .where(Conversation.assignee_id.in_(list(gone)), Conversation.status == "open",
               Conversation.assigned_at.is_not(None), ~replied)
        .order_by(Conversation.id)).all()
    names = dict(db.session.execute(sa.select(Agent.id, Agent.name).where(Agent.id.in_(list(gone)))).all())
    queues = {q.id: q for q in db.session.scalars(sa.select(Queue))}
    returned = 0
    for conversation_id, agent_id, assigned_at, queue_id in rows:
        # Only if still theirs and untouched since we looked (they may be back, or replying).
        released = db.session.execute(
            sa.update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.assignee_id == agent_id,
                   Conversation.assigned_at == sa.literal(assigned_at, type_=Conversation.assigned_at.type))
            .values(assignee_id=None, assigned_at=None, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if not released:
            db.session.rollback()
            continue
        state = gone[agent_id]
        minutes = int((now.timestamp() - state.since) // 60)
        reason = (f"returned to the queue: {names.get(agent_id, 'the agent')} has been {state.status} for "
                  f"{minutes} min with no reply since it was assigned")
        _record(conversation_id, queues[queue_id], agent_id, "returned", reason, [], now)
        returned += 1
    db.session.rollback()
    return returned
