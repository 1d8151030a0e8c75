"""RQ jobs for SLAs and automatic assignment: plain importable functions, run in the worker's app context.

They let exceptions propagate so RQ records and retries them, and are safe to
run twice: each looks at the database's state rather than at what it was told.
"""


def check_slas() -> dict:
    """Move SLA clocks whose moment came to at risk or breached, and announce them (periodic)."""
    from .services.sla import check

    return check()


def resync_slas(queue_id: int, priority: int | None = None) -> int:
    """Re-plan the SLA clocks of a queue's active conversations after a policy or calendar change."""
    from .services.sla import resync

    return resync(queue_id, priority)


def assign_queues(queue_ids: list[int] | None = None) -> int:
    """Assign waiting conversations of these queues (all with assignment on, if None) to online agents."""
    from .services.assignment import assign_waiting

    return assign_waiting(queue_ids)


def assignment_tick() -> dict:
    """Return untouched work of agents who went away, then assign what waits (periodic)."""
    from .services.assignment import assign_waiting, return_untouched

    returned = return_untouched()
    return {"returned": returned, "assigned": assign_waiting(None)}
