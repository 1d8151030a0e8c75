"""Jobs of outbound events: one delivery attempt to a subscriber's URL."""

from workspace.services.subscriptions import delivery


def deliver_event(delivery_id: int) -> str:
    """POST one signed event to its subscriber; a failed attempt raises so RQ retries it on its backoff."""
    return delivery.deliver(delivery_id)
