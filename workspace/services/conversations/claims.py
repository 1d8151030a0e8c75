"""Get next: hand an agent the most urgent unassigned conversation, never the same one to two agents."""

import sqlalchemy as sa

from workspace.extensions import db
from workspace.models import Agent, Conversation, Queue, utcnow
from workspace.services.conversations.actions import commit_change
from workspace.services.conversations.queues import ORDER, visible_queue_ids

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
    query = (sa.select(Conversation.id)
             .where(Conversation.queue_id.in_(queue_ids), Conversation.status == "open",
                    Conversation.assignee_id.is_(None))
             .order_by(*ORDER))
    if db.engine.dialect.name == "postgresql":
        query = query.limit(1).with_for_update(skip_locked=True)
    else:
        query = query.limit(CANDIDATES)
    for conversation_id in db.session.scalars(query).all():
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
