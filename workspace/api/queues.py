"""Queues and their ordered conversation lists."""

import sqlalchemy as sa
from flask import g, jsonify, request

from ..auth import token_required
from ..errors import NotFound
from ..extensions import db
from ..models import Queue
from ..serializers import serialize_conversation, serialize_queue
from ..services.queues import list_conversations, queue_counts, visible_queue_ids
from . import bp
from .params import page_size


@bp.get("/queues")
@token_required
def list_queues():
    """List every queue with its live counts."""
    queues = db.session.scalars(sa.select(Queue).where(Queue.id.in_(visible_queue_ids(g.agent)))
                                .order_by(Queue.name)).all()
    counts = queue_counts([queue.id for queue in queues])
    return jsonify(data=[serialize_queue(queue, counts[queue.id]) for queue in queues])


@bp.get("/queues/<slug>/conversations")
@token_required
def list_queue_conversations(slug: str):
    """List a queue's conversations in work order, one page at a time."""
    queue = db.session.scalar(sa.select(Queue).where(Queue.slug == slug))
    if queue is None or queue.id not in visible_queue_ids(g.agent):
        raise NotFound(f"no queue named {slug!r}")
    conversations, next_cursor = list_conversations(
        queue, status=request.args.get("status", "open"), limit=page_size(),
        cursor=request.args.get("cursor"),
    )
    return jsonify(data=[serialize_conversation(c) for c in conversations], next_cursor=next_cursor)
