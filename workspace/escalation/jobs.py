"""RQ jobs of escalation: plain functions taking ids, run in the worker's app context."""


def create_ticket(escalation_id: int) -> str:
    """Create an escalation's ticket (idempotent; a failure raises so RQ retries with backoff)."""
    from ..services.escalation import create_ticket as create

    return create(escalation_id)
