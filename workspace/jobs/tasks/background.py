"""Jobs asked for by admins and supervisors: bulk actions and their undo, retraining, SLA re-plans."""

from workspace.services.responses import bulk
from workspace.services.service_levels import clocks
from workspace.services.triage import classifier


def run_bulk(bulk_id: int) -> dict:
    """Apply a bulk action to its remaining conversations (resumable: a retry continues where it stopped)."""
    return bulk.run_bulk(bulk_id)


def undo_bulk(bulk_id: int) -> dict:
    """Put back what a bulk action changed, skipping conversations changed since (idempotent)."""
    return bulk.undo_bulk(bulk_id)


def retrain(force: bool = False) -> dict:
    """Retrain the classifier from conversations and corrections through the promotion gate (idempotent)."""
    return classifier.retrain(force=force)


def train_upload(upload: str, mapping: dict, create_queues: bool, fit_all: bool, force: bool,
                 agent_id: int | None) -> dict:
    """Train from a training file an admin uploaded (checked when it was accepted) through the promotion gate."""
    return classifier.train_upload(upload, mapping=mapping, create_queues=create_queues, fit_all=fit_all,
                                   force=force, agent_id=agent_id)


def resync_slas(queue_id: int, priority: int | None = None) -> int:
    """Re-plan the SLA clocks of a queue's active conversations after a policy or calendar change."""
    return clocks.resync(queue_id, priority)
