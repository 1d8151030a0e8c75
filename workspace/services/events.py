"""Real-time events: what changed, sent to the rooms that care."""

from ..extensions import db, socketio
from ..models import Conversation
from ..serializers import serialize_conversation
from .queues import queue_counts


def queue_room(queue_id: int) -> str:
    """The room of everyone watching a queue."""
    return f"queue:{queue_id}"


def conversation_room(conversation_id: int) -> str:
    """The room of everyone viewing a conversation."""
    return f"conversation:{conversation_id}"


def agent_room(agent_id: int) -> str:
    """The private room of one agent's connections."""
    return f"agent:{agent_id}"


def conversations_changed(created: list[Conversation], updated: list[Conversation]) -> None:
    """Emit conversation.created/updated to each queue's room, then its new counts."""
    queue_ids = set()
    for name, conversations in (("conversation.created", created), ("conversation.updated", updated)):
        for conversation in conversations:
            if conversation.queue_id is None:
                continue
            payload = serialize_conversation(conversation)
            socketio.emit(name, payload, to=queue_room(conversation.queue_id))
            socketio.emit(name, payload, to=conversation_room(conversation.id))
            queue_ids.add(conversation.queue_id)
    if queue_ids:
        counts = queue_counts(sorted(queue_ids))
        for queue_id in queue_ids:
            socketio.emit("queue.counts", {"queue_id": queue_id, "counts": counts[queue_id]},
                          to=queue_room(queue_id))
    db.session.rollback()
