"""Real-time events: what changed, sent to the rooms that care.

Every `conversation.*` event carries `{"conversations": [...]}`: a routing job
sends one event per queue room for its whole batch rather than one per
conversation, since each emit is a Redis PUBLISH (events were 63% of a
routing job's time when sent one by one).
"""

from collections import defaultdict

import sqlalchemy.orm as so

from ..extensions import socketio
from ..models import Conversation
from ..serializers import serialize_conversation
from . import dashboard
from .counts import queue_counts

# Loader options for conversations about to be serialized into events (no query per row).
SERIALIZED = (so.joinedload(Conversation.queue), so.joinedload(Conversation.channel),
              so.joinedload(Conversation.author), so.joinedload(Conversation.assignee))


def queue_room(queue_id: int) -> str:
    """The room of everyone watching a queue."""
    return f"queue:{queue_id}"


def conversation_room(conversation_id: int) -> str:
    """The room of everyone viewing a conversation."""
    return f"conversation:{conversation_id}"


def agent_room(agent_id: int) -> str:
    """The private room of one agent's connections."""
    return f"agent:{agent_id}"


def dashboard_room() -> str:
    """The room of the supervisors watching the dashboard."""
    return "dashboard"


class Changes:
    """Conversation changes gathered during a transaction, serialized before it commits."""

    def __init__(self, *, per_conversation: bool = True):
        self.by_queue: dict[int, dict[str, list[dict]]] = defaultdict(lambda: {"created": [], "updated": []})
        self.viewed: list[dict] = []
        self.queue_ids: set[int] = set()
        # Bulk changes skip the per-conversation rooms: one emit per conversation
        # (a Redis PUBLISH each) was half a bulk batch's time, and the console
        # already refreshes the conversation it shows from its queue's event.
        self.per_conversation = per_conversation

    def add(self, conversation: Conversation, kind: str, *, old_queue_id: int | None = None,
            preview: str | None = None) -> None:
        """Record a created or updated conversation (and the queue it left, if it moved)."""
        payload = serialize_conversation(conversation, preview=preview)
        if conversation.queue_id is not None:
            self.by_queue[conversation.queue_id][kind].append(payload)
            self.queue_ids.add(conversation.queue_id)
        if old_queue_id is not None and old_queue_id != conversation.queue_id:
            self.by_queue[old_queue_id]["updated"].append(payload)
            self.queue_ids.add(old_queue_id)
        if kind == "updated" and self.per_conversation:  # nobody can be viewing one just created
            self.viewed.append(payload)

    def publish(self) -> None:
        """Emit the gathered events, then each touched queue's fresh counts (call after commit)."""
        for queue_id, kinds in self.by_queue.items():
            for kind, payloads in kinds.items():
                if payloads:
                    socketio.emit(f"conversation.{kind}", {"conversations": payloads}, to=queue_room(queue_id))
        for payload in self.viewed:
            socketio.emit("conversation.updated", {"conversations": [payload]}, to=conversation_room(payload["id"]))
        if self.by_queue:
            dashboard.mark_changed()
        if self.queue_ids:
            counts = queue_counts(sorted(self.queue_ids))
            for queue_id in sorted(self.queue_ids):
                socketio.emit("queue.counts", {"queue_id": queue_id, "counts": counts[queue_id]},
                              to=queue_room(queue_id))
