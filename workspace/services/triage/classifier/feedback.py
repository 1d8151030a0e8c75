"""Learning from agents: audited retrain requests, and how often routing guessed right (retraining after
corrections is asked for through live.signals.corrections_added)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from workspace.extensions import db
from workspace.models import TRIAGE, Agent, Conversation, Correction, Queue, utcnow
from workspace.services import audit


def record_retrain_request(agent: Agent, job_id: str, force: bool = False) -> str:
    """Audit an admin's request for a retrain (the web layer enqueued it as `job_id`); returns the job id."""
    audit.record(agent, "model.retrain", "model_version", None, None, {"job_id": job_id, "force": force})
    db.session.commit()
    return job_id


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
