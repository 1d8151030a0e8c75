"""Jobs that tell agents: record and emit notifications for an announced change, and push them to devices."""

from workspace.services.notifications import triggers, webpush


def notify(kind: str, ids: list) -> int:
    """Record and emit the notifications one announced change calls for (idempotent: keyed per event)."""
    return triggers.notify(kind, ids)


def push_notifications(agent_id: int) -> dict:
    """Push an agent's waiting notifications to their devices (claimed, so never twice)."""
    return webpush.push_pending(agent_id)
