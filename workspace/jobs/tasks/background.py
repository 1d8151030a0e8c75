"""Jobs asked for by admins and supervisors: bulk actions and their undo, retraining, SLA re-plans."""

from rq import get_current_job

from routing.features import DEFAULT_FEATURES
from workspace.services.assist import training
from workspace.services.people import privacy
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
                 agent_id: int | None, features: str = DEFAULT_FEATURES) -> dict:
    """Train from a training file an admin uploaded (checked when it was accepted) through the promotion gate."""
    return classifier.train_upload(upload, mapping=mapping, create_queues=create_queues, fit_all=fit_all,
                                   force=force, agent_id=agent_id, features=features)
def train_suggestions(force: bool = False) -> dict:
    """Train a suggestion version from what agents did and promote it if it passes the gate."""
    version = training.train(force=force)
    return {"version_id": version.id, "active": version.active, "decision": version.decision}


def resync_slas(queue_id: int, priority: int | None = None) -> int:
    """Re-plan the SLA clocks of a queue's active conversations after a policy or calendar change."""
    return clocks.resync(queue_id, priority)


def apply_retention(days: int, mode: str) -> dict:
    """Redact or delete closed conversations older than `days`, reporting progress in the job's meta."""
    job = get_current_job()

    def report(done: int, total: int) -> None:
        if job is not None:
            job.meta["progress"] = {"done": done, "total": total}
            job.save_meta()

    return privacy.apply_retention(days, mode, report)
