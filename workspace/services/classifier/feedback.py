"""Learning from agents: retrain after corrections, and measure how often routing guessed right."""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from redis.exceptions import RedisError
from rq import Retry
from rq.exceptions import DuplicateJobError
from rq.job import JobStatus

from ...broker import job_queue
from ...extensions import db
from ...models import TRIAGE, Agent, Conversation, Correction, Queue, utcnow
from .. import audit

log = logging.getLogger(__name__)

RETRAIN_JOB = "routing.jobs.retrain"
RETRAIN_JOB_TIMEOUT = 1800  # Banking77-sized data trains in under a minute; this bounds a stuck run
RETRAIN_JOB_RETRY = Retry(max=2, interval=[60, 300])
_PENDING_JOB = (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED)


def enqueue_retrain(force: bool = False) -> str:
    """Enqueue the retrain job unless one is already waiting or running; returns its job id."""
    queue = job_queue()
    job_id = f"retrain-{queue.name}{'-forced' if force else ''}"
    existing = queue.fetch_job(job_id)
    if existing is not None:
        if existing.get_status() in _PENDING_JOB:
            return job_id
        existing.delete()  # a finished or failed run: make way for a new one
    try:
        queue.enqueue_call(RETRAIN_JOB, kwargs={"force": force}, job_id=job_id, timeout=RETRAIN_JOB_TIMEOUT,
                           retry=RETRAIN_JOB_RETRY, result_ttl=86400, failure_ttl=7 * 86400, unique=True)
    except DuplicateJobError:
        pass  # another process enqueued it between our look and our enqueue: still one job
    return job_id


def request_retrain(agent: Agent, force: bool = False) -> str:
    """Enqueue a retrain on an admin's request, audited; returns the job id."""
    job_id = enqueue_retrain(force)
    audit.record(agent, "model.retrain", "model_version", None, None, {"job_id": job_id, "force": force})
    db.session.commit()
    return job_id


def corrections_added() -> str | None:
    """Enqueue the retrain job once RETRAIN_AFTER_CORRECTIONS unused corrections exist; returns its job id.

    Called after a correction is committed: if Redis is unreachable the agent's
    move still stands, and the next correction tries again (the count only grows).
    """
    unused = db.session.scalar(
        sa.select(sa.func.count()).select_from(Correction).where(Correction.used_in_version.is_(None))
    )
    if unused < current_app.config["RETRAIN_AFTER_CORRECTIONS"]:
        return None
    try:
        return enqueue_retrain()
    except RedisError:
        log.warning("cannot enqueue the retrain job (%d unused corrections); will retry on the next", unused,
                    exc_info=True)
        return None


# --- measuring routing ------------------------------------------------------------------------------


def routing_accuracy(days: int = 7) -> dict:
    """Compare the model's predicted queue with the final queue of conversations routed in the last N days.

    Conversations still in triage have no human verdict yet: they are counted
    apart and left out of the accuracy.

    Returns:
        {"days", "since", "total", "correct", "accuracy", "corrected", "in_triage",
         "queues": {slug: {"conversations", "predicted", "correct", "accuracy"}}}.
    """
    since = utcnow() - timedelta(days=days)
    corrections = sa.select(Correction.conversation_id).distinct().subquery()
    corrected = corrections.c.conversation_id.is_not(None)
    rows = db.session.execute(
        sa.select(Conversation.predicted_queue, Queue.slug, corrected, sa.func.count())
        .join(Queue, Queue.id == Conversation.queue_id)
        .outerjoin(corrections, corrections.c.conversation_id == Conversation.id)
        .where(Conversation.routed_at >= since, Conversation.predicted_queue.is_not(None))
        .group_by(Conversation.predicted_queue, Queue.slug, corrected)
    ).all()
    queues: dict[str, dict] = {}
    total = correct = corrected_count = in_triage = 0
    for predicted, final, was_corrected, count in rows:
        if final == TRIAGE:
            in_triage += count
            continue
        total += count
        corrected_count += count if was_corrected else 0
        hit = count if predicted == final else 0
        correct += hit
        for slug in {predicted, final}:
            queues.setdefault(slug, {"conversations": 0, "predicted": 0, "correct": 0})
        queues[final]["conversations"] += count
        queues[final]["correct"] += hit
        queues[predicted]["predicted"] += count
    for figures in queues.values():
        n = figures["conversations"]
        figures["accuracy"] = round(figures["correct"] / n, 4) if n else None
    return {"days": days, "since": since.isoformat(), "total": total, "correct": correct,
            "accuracy": round(correct / total, 4) if total else None, "corrected": corrected_count,
            "in_triage": in_triage, "queues": dict(sorted(queues.items()))}
