"""Recording agent actions in the audit log."""

from workspace.extensions import db
from workspace.models import Agent, AuditEntry


def record(agent: Agent | None, action: str, target_type: str, target_id: int | None,
           before: dict | None = None, after: dict | None = None) -> AuditEntry:
    """Add an audit entry to the current transaction (the caller commits it with the change).

    Args:
        agent: who acted (None for the system).
        action: what they did, e.g. "rule.update".
        target_type: the kind of thing changed, e.g. "rule".
        target_id: its id.
        before: its state before, if it existed.
        after: its state after, if it still exists.

    Returns:
        The new entry.
    """
    entry = AuditEntry(agent_id=agent.id if agent else None, action=action, target_type=target_type,
                       target_id=target_id, before=before, after=after)
    db.session.add(entry)
    return entry
