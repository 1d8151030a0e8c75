"""Get next: hand an agent the most urgent unassigned conversation, never the same one to two agents."""

import sqlalchemy as sa

from workspace.extensions import db
from workspace.models import Agent, Conversation, Queue, utcnow
from workspace.services.conversations.actions import commit_change
from workspace.services.conversations.queues import ORDER, first_in_order, visible_queue_ids

# Candidates looked at per attempt; a race lost on one moves on to the next.
CANDIDATES = 20


def get_next(agent: Agent, queue_slug: str | None = None) -> Conversation | None:
    """Claim the top unassigned open conversation of the agent's queues (or one queue).

    The claim is a conditional UPDATE (only while still unassigned), so two
    agents pressing at the same instant never get the same conversation. On
    PostgreSQL the top row is read with FOR UPDATE SKIP LOCKED, one row at a
    time (locking several would hide them all from the other claimers); on
    SQLite, whose writers are serialized anyway, a claimer that loses a race
    moves on to the next candidate.

    Returns:
        The claimed conversation, or None when there is nothing to take.
    """
    queue_ids = visible_queue_ids(agent)
    if queue_slug is not None:
        wanted = db.session.scalar(sa.select(Queue.id).where(Queue.slug == queue_slug))
        queue_ids = [queue_id for queue_id in queue_ids if queue_id == wanted]
    if not queue_ids:
        return None
    waiting = (Conversation.status == "open", Conversation.assignee_id.is_(None))
    # The heads of each queue's range of the queue-order index, not a sort of every unassigned row.
    candidates = first_in_order([[Conversation.queue_id == queue_id, *waiting] for queue_id in queue_ids], CANDIDATES)
    query = sa.select(Conversation.id).where(*waiting).order_by(*ORDER)
    if db.engine.dialect.name == "postgresql":
        query = query.limit(1).with_for_update(skip_locked=True)
        # Lock the first free candidate; if other claimers hold every one, look past them in the whole queue.
        found = db.session.scalars(query.where(Conversation.id.in_(candidates))).all() if candidates else []
        if not found and candidates:
            found = db.session.scalars(query.where(Conversation.queue_id.in_(queue_ids))).all()
    else:
        found = candidates
    for conversation_id in found:
        claimed = db.session.execute(
            sa.update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.assignee_id.is_(None))
            .values(assignee_id=agent.id, assigned_at=utcnow())
        ).rowcount
        if claimed:
            conversation = db.session.get(Conversation, conversation_id)
            db.session.refresh(conversation)
            return commit_change(conversation, agent, "conversation.claim", {"assignee_id": None},
                                 {"assignee_id": agent.id})
    db.session.rollback()
    return None
