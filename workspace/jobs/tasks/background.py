"""Jobs asked for by admins and supervisors: bulk actions and their undo, retraining, SLA re-plans."""

from workspace.services.assist import training
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


def train_suggestions(force: bool = False) -> dict:
    """Train a suggestion version from what agents did and promote it if it passes the gate."""
    version = training.train(force=force)
    return {"version_id": version.id, "active": version.active, "decision": version.decision}


def resync_slas(queue_id: int, priority: int | None = None) -> int:
    """Re-plan the SLA clocks of a queue's active conversations after a policy or calendar change."""
    return clocks.resync(queue_id, priority)
