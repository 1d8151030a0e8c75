"""Jobs on conversations: route a batch, suggest for it, deliver replies, create tickets, assign waiting work."""

from workspace.observability import instruments
from workspace.services import assignment
from workspace.services.assist import training
from workspace.services.conversations import delivery
from workspace.services.escalation import tickets
from workspace.services.triage import decisions


def route_conversations(conversation_ids: list[int]) -> dict:
    """Route a batch of conversations (idempotent: re-running is harmless)."""
    return instruments.timed_routing(decisions.route_conversations, conversation_ids)


def suggest_for_conversations(conversation_ids: list[int]) -> int:
    """Store suggested macros and past replies for routed conversations (idempotent)."""
    return training.suggest_conversations(conversation_ids)


def deliver_reply(message_id: int) -> str:
    """Send one reply through its channel's sender; never twice, however often it runs."""
    return instruments.counted_delivery(delivery.deliver_reply, message_id)


def deliver_replies(message_ids: list[int]) -> dict:
    """Send many replies (a bulk batch) through their channels' senders, one after another."""
    return instruments.counted_delivery(delivery.deliver_replies, message_ids)


def create_ticket(escalation_id: int) -> str:
    """Create an escalation's ticket (idempotent; a failure raises so RQ retries with backoff)."""
    return instruments.counted_escalation(tickets.create_ticket, escalation_id)


def assign_queues(queue_ids: list[int] | None = None) -> int:
    """Assign waiting conversations of these queues (all with assignment on, if None) to online agents."""
    return assignment.assign_waiting(queue_ids)
