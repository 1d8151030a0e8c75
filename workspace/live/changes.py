"""Changes gathered during a transaction, published after it commits: events, counts and signals.

Every `conversation.*` event carries `{"conversations": [...]}` (and a `trace`
naming the request or job behind it, when one is at work): a routing job
sends one event per queue room for its whole batch rather than one per
conversation, since each emit is a Redis PUBLISH (events were 63% of a
routing job's time when sent one by one).

This is the one effects step after a commit: besides the events, a service
asks here for what must follow (replies to deliver, tickets to create,
corrections to learn from, assignment), and `publish` sends those as signals
(`live.signals`) for the features that connected to them.
"""

from collections import defaultdict

import sqlalchemy.orm as so
from blinker import Signal

from workspace.live import signals, trace
from workspace.live.publish import publish
from workspace.live.rooms import conversation_room, queue_room
from workspace.models import RESOLVING, Conversation
from workspace.models.counts import queue_counts
from workspace.serializers import serialize_conversation


class Changes:
    """Conversation changes and requested effects gathered during a transaction, serialized before it commits."""

    def __init__(self, *, per_conversation: bool = True):
        self.by_queue: dict[int, dict[str, list[dict]]] = defaultdict(lambda: {"created": [], "updated": []})
        self.viewed: list[dict] = []
        self.queue_ids: set[int] = set()
        # Conversations that became resolved in this transaction (not updates of resolved ones).
        self.resolved: set[int] = set()
        self.effects: dict[Signal, list[int]] = defaultdict(list)
        # Bulk changes skip the per-conversation rooms: one emit per conversation
        # (a Redis PUBLISH each) was half a bulk batch's time, and the console
        # already refreshes the conversation it shows from its queue's event.
        self.per_conversation = per_conversation

    def add(self, conversation: Conversation, kind: str, *, old_queue_id: int | None = None,
            preview: str | None = None) -> None:
        """Record a created or updated conversation (and the queue it left, if it moved)."""
        payload = serialize_conversation(conversation, preview=preview)
        session = so.object_session(conversation)
        if session is not None and conversation.id in session.info.get(RESOLVING, ()):
            self.resolved.add(conversation.id)
        if conversation.queue_id is not None:
            self.by_queue[conversation.queue_id][kind].append(payload)
            self.queue_ids.add(conversation.queue_id)
        if old_queue_id is not None and old_queue_id != conversation.queue_id:
            self.by_queue[old_queue_id]["updated"].append(payload)
            self.queue_ids.add(old_queue_id)
        if kind == "updated" and self.per_conversation:  # nobody can be viewing one just created
            self.viewed.append(payload)

    def request(self, signal: Signal, *ids: int) -> None:
        """Ask for an effect once the transaction commits: `signal` is sent with these ids (see live.signals)."""
        self.effects[signal].extend(ids)

    def publish(self) -> None:
        """Emit the gathered events and each touched queue's fresh counts, then send the requested signals.

        Call after the commit; a receiver that fails (Redis down) raises here, after every event went out.
        """
        for queue_id, kinds in self.by_queue.items():
            for kind, payloads in kinds.items():
                if payloads:
                    publish(f"conversation.{kind}", conversation_event(payloads), queue_room(queue_id))
        for payload in self.viewed:
            publish("conversation.updated", conversation_event([payload]), conversation_room(payload["id"]))
        if self.queue_ids:
            queue_ids = sorted(self.queue_ids)
            counts = queue_counts(queue_ids)
            for queue_id in queue_ids:
                publish("queue.counts", {"queue_id": queue_id, "counts": counts[queue_id]}, queue_room(queue_id))
        if self.by_queue:
            signals.queues_changed.send(None, ids=sorted(self.by_queue))
            for kind in ("created", "updated"):
                ids = sorted({payload["id"] for kinds in self.by_queue.values() for payload in kinds[kind]})
                if ids:
                    signals.conversations_changed.send(None, ids=ids, kind=kind)
        if self.resolved:
            signals.conversations_resolved.send(None, ids=sorted(self.resolved))
        for signal, ids in self.effects.items():
            if ids:
                signal.send(None, ids=ids)


def conversation_event(payloads: list[dict]) -> dict:
    """A `conversation.*` event's data: the conversations, and the trace of the request or job that changed
    them (see live.trace), so a console's trace can be matched to the logs."""
    data = {"conversations": payloads}
    context = trace.for_conversations([payload["id"] for payload in payloads])
    if context:
        data["trace"] = context
    return data


def announce(signal: Signal, *ids: int) -> None:
    """Send one signal now, outside a batch of changes (after the commit that made it true)."""
    if ids:
        signal.send(None, ids=list(ids))
