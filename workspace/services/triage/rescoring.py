"""Re-scoring priority when a customer's tags change: their unresolved conversations move at once."""

from datetime import datetime

import sqlalchemy as sa

from routing.priority import rescore
from workspace.extensions import db
from workspace.live.changes import Changes
from workspace.models import Author, Conversation, Priority
from workspace.services.service_levels import clocks
from workspace.services.triage.weights import current_weights

# Statuses whose priority still orders work.
UNRESOLVED = ("open", "pending", "escalated")


def rescore_author(author: Author, changes: Changes, now: datetime) -> list[int]:
    """Re-score the author's unresolved conversations for their tags now (a `vip` tag added or taken away).

    A conversation whose priority an agent set by hand (it differs from the
    level routing stored) keeps it. The others take the new level and score,
    their SLA clocks re-planned for it, and are recorded in `changes`.

    Returns:
        The ids of the conversations whose priority changed.
    """
    changed = []
    policies, weights = clocks.Policies(), current_weights()
    for conversation in db.session.scalars(sa.select(Conversation).where(
            Conversation.author_id == author.id, Conversation.status.in_(UNRESOLVED))):
        stored = (conversation.explanation or {}).get("priority")
        if not stored or Priority(conversation.priority).label != stored.get("level"):
            continue
        new = rescore(stored, frozenset(author.tags or ()), weights)
        if new.level == stored["level"] and new.score == stored.get("score"):
            continue
        conversation.priority = Priority.parse(new.level)
        conversation.priority_score = new.score
        conversation.explanation = {**conversation.explanation, "priority": new.to_dict()}
        clocks.sync(conversation, now, policies)
        conversation.updated_at = now
        changes.add(conversation, "updated")
        changed.append(conversation.id)
    return changed
