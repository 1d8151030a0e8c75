"""Queues and their ordered conversation lists."""

import sqlalchemy as sa
from flask import g, jsonify, request

from workspace.errors import NotFound, ValidationError
from workspace.extensions import db
from workspace.models import Queue
from workspace.models.counts import queue_counts
from workspace.serializers import serialize_conversation, serialize_queue
from workspace.services.conversations.queues import (
    assignee_filter,
    list_conversations,
    previews,
    visible_queue_ids,
)
from workspace.services.conversations.search import search
from workspace.web.api import bp
from workspace.web.auth import agent_required
from workspace.web.validation import page_size


@bp.get("/queues")
@agent_required
def list_queues():
    """List every queue with its live counts."""
    queues = db.session.scalars(sa.select(Queue).where(Queue.id.in_(visible_queue_ids(g.agent)))
                                .order_by(Queue.name)).all()
    counts = queue_counts([queue.id for queue in queues])
    return jsonify(data=[serialize_queue(queue, counts[queue.id]) for queue in queues])


@bp.get("/queues/<slug>/conversations")
@agent_required
def list_queue_conversations(slug: str):
    """List a queue's conversations in work order, one page at a time."""
    queue = db.session.scalar(sa.select(Queue).where(Queue.slug == slug))
    if queue is None or queue.id not in visible_queue_ids(g.agent):
        raise NotFound(f"no queue named {slug!r}")
    conversations, next_cursor = list_conversations(
        queue, status=request.args.get("status", "open"), limit=page_size(), cursor=request.args.get("cursor"),
        assignee_id=assignee_filter(request.args.get("assignee"), g.agent), tag=request.args.get("tag") or None,
        channel=request.args.get("channel") or None,
    )
    texts = previews([c.id for c in conversations])
    return jsonify(data=[serialize_conversation(c, preview=texts.get(c.id, "")) for c in conversations],
                   next_cursor=next_cursor)


@bp.get("/search")
@agent_required
def search_conversations():
    """Find conversations by words, phrases and filters (your queues only), best match first, a page at a time."""
    text = request.args.get("q", "")
    if len(text.strip()) < 2:
        raise ValidationError("q: at least 2 characters", code="invalid_field")
    found, next_cursor = search(g.agent, text, limit=page_size(), cursor=request.args.get("cursor"))
    return jsonify(data=[{**serialize_conversation(item.conversation, preview=item.preview),
                          "snippet": item.snippet,
                          "highlights": [{"text": piece, "mark": marked} for piece, marked in item.parts]}
                         for item in found],
                   next_cursor=next_cursor)
