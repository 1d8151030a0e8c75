"""Applying routing decisions to conversations (the worker side of the flow)."""

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

import routing
from routing import Decision, Post

from ..extensions import db
from ..models import TRIAGE, Author, Conversation, Message, Priority, Queue, utcnow
from . import events


def route_conversations(conversation_ids: list[int]) -> dict:
    """Route every listed conversation that has an inbound post routing has not seen.

    Running it twice changes nothing the second time and emits no second event.

    Args:
        conversation_ids: conversations to consider; unknown ids are ignored.

    Returns:
        Counts of routed and skipped conversations.
    """
    latest = dict(
        db.session.execute(
            sa.select(Message.conversation_id, sa.func.max(Message.id))
            .where(Message.conversation_id.in_(conversation_ids), Message.direction == "inbound")
            .group_by(Message.conversation_id)
        ).all()
    )
    conversations = db.session.scalars(
        sa.select(Conversation).where(Conversation.id.in_(list(latest))).order_by(Conversation.id)
    ).all()
    pending = [c for c in conversations if c.routed_message_id != latest[c.id] and c.status != "spam"]
    if not pending:
        db.session.rollback()
        return {"routed": 0, "skipped": len(conversation_ids)}

    queues = {queue.slug: queue for queue in db.session.scalars(sa.select(Queue))}
    if TRIAGE not in queues:
        queues[TRIAGE] = Queue(slug=TRIAGE, name="Triage", description="Needs a human to route it.")
        db.session.add(queues[TRIAGE])
    texts = dict(
        db.session.execute(
            sa.select(Message.id, Message.text).where(Message.id.in_([latest[c.id] for c in pending]))
        ).all()
    )
    authors = {a.id: a for a in db.session.scalars(
        sa.select(Author).where(Author.id.in_({c.author_id for c in pending})))}
    now = utcnow()
    posts = [_post_for(c, texts[latest[c.id]], authors[c.author_id], now) for c in pending]
    decisions = routing.route_many(
        posts, active_rules(), active_model(), queues=frozenset(queues),
    )
    created, updated = [], []
    for conversation, decision in zip(pending, decisions, strict=True):
        first_time = conversation.status == "new"
        _apply(conversation, decision, queues, now)
        conversation.routed_message_id = latest[conversation.id]
        (created if first_time else updated).append(conversation)
    db.session.commit()
    events.conversations_changed(created, updated)
    return {"routed": len(pending), "skipped": len(conversation_ids) - len(pending)}


def _post_for(conversation: Conversation, text: str, author: Author, now) -> Post:
    """Build the plain-data view routing gets of a conversation."""
    waiting_since = conversation.waiting_since or conversation.created_at
    return Post(
        text=text,
        subject=conversation.subject,
        channel=conversation.channel.slug,
        channel_kind=conversation.channel.kind,
        author_handle=author.handle,
        author_name=author.name,
        author_followers=author.followers,
        author_verified=author.verified,
        author_tags=frozenset(author.tags or ()),
        waiting_seconds=max(0.0, (now - waiting_since).total_seconds()),
    )


def _apply(conversation: Conversation, decision: Decision, queues: dict[str, Queue], now) -> None:
    """Store a decision; a follow-up re-scores priority but keeps the agents' queue."""
    priority = Priority.parse(decision.priority)
    if conversation.status == "new":
        conversation.queue = queues.get(decision.queue) or queues[TRIAGE]
        conversation.status = "spam" if decision.spam else "open"
        conversation.routed_at = now
    if conversation.waiting_since is None:
        conversation.waiting_since = conversation.last_message_at
    conversation.priority = priority
    conversation.priority_score = decision.score
    conversation.tags = sorted(set(conversation.tags or ()) | set(decision.tags))
    conversation.explanation = decision.explanation
    conversation.sla_due_at = conversation.waiting_since + timedelta(
        minutes=sla_minutes(conversation.queue, priority))
    conversation.updated_at = now


def sla_minutes(queue: Queue, priority: Priority) -> int:
    """Return the first-reply target for a priority in a queue, in minutes."""
    targets = {**current_app.config["DEFAULT_SLA_MINUTES"], **(queue.sla_minutes or {})}
    return int(targets[priority.label])


def active_rules() -> tuple:
    """Return the compiled routing rules in force (none until admins define some)."""
    return current_app.extensions.get("routing_rules", ())


def active_model():
    """Return the classifier loaded in this process, or None on an untrained start."""
    return current_app.extensions.get("classifier")
