"""Quality review: supervisors sample agents' replies and score them; agents read their own reviews."""

import random
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.errors import Forbidden, NotFound, ValidationError
from workspace.extensions import db
from workspace.models import SCORES, Agent, Conversation, Message, QaReview, Queue, is_id, utcnow
from workspace.services import audit
from workspace.services.supervision.volume import NEGATIVE_BELOW

SAMPLE_MODES = ("random", "agent", "queue", "negative")
MAX_SAMPLE = 50
# Samples are drawn from this many of the newest unreviewed replies that fit the filter:
# recent work is what coaching is about, and the newest rows come straight off the primary key.
SAMPLE_POOL = 1_000
MAX_COMMENT_CHARS = 5_000
MAX_WEEKS = 52


def sample(mode: str, *, agent_id: int | None = None, queue: str | None = None, limit: int = 10,
           seed: int | None = None) -> list[Message]:
    """Draw unreviewed agent replies at random: from everyone, one agent, one queue, or negative conversations.

    Args:
        mode: one of SAMPLE_MODES.
        agent_id: the agent (mode "agent"; narrows the others too).
        queue: the queue slug (mode "queue"; narrows the others too).
        limit: how many replies, at most MAX_SAMPLE.
        seed: makes the draw repeatable (tests).

    Returns:
        The sampled replies, with their conversations loaded.
    """
    if mode not in SAMPLE_MODES:
        raise ValidationError(f"mode: must be one of {', '.join(SAMPLE_MODES)}", code="invalid_field")
    if not 1 <= limit <= MAX_SAMPLE:
        raise ValidationError(f"limit: between 1 and {MAX_SAMPLE}", code="invalid_field")
    if mode == "agent" and agent_id is None:
        raise ValidationError("agent_id: is required to sample one agent", code="invalid_field")
    if mode == "queue" and queue is None:
        raise ValidationError("queue: is required to sample one queue", code="invalid_field")
    reviewed = sa.select(QaReview.message_id)
    query = (sa.select(Message).join(Conversation, Conversation.id == Message.conversation_id)
             .where(Message.direction == "outbound", Message.agent_id.is_not(None), Message.id.not_in(reviewed))
             .options(so.joinedload(Message.agent), so.joinedload(Message.conversation).joinedload(Conversation.queue))
             .order_by(Message.id.desc()).limit(SAMPLE_POOL))
    if agent_id is not None:
        query = query.where(Message.agent_id == agent_id)
    if queue is not None:
        queue_id = db.session.scalar(sa.select(Queue.id).where(Queue.slug == queue))
        if queue_id is None:
            raise NotFound(f"queue: no queue named {queue!r}")
        query = query.where(Conversation.queue_id == queue_id)
    if mode == "negative":
        query = query.where(Conversation.explanation["sentiment"].as_float() < NEGATIVE_BELOW)
    pool = db.session.scalars(query).unique().all()
    return random.Random(seed).sample(pool, min(limit, len(pool)))


def review(data, reviewer: Agent) -> QaReview:
    """Score one agent reply (accuracy, tone, resolution 1-5, a comment); each reply is reviewed once."""
    data = _object(data)
    message_id = data.get("message_id")
    if not is_id(message_id):
        raise ValidationError("message_id: the id of an agent's reply", code="invalid_field")
    message = db.session.get(Message, message_id)
    if message is None or message.direction != "outbound" or message.agent_id is None:
        raise NotFound(f"message_id: no agent reply {message_id}")
    if db.session.scalar(sa.select(QaReview.id).where(QaReview.message_id == message_id)) is not None:
        raise ValidationError("message_id: this reply is reviewed already; change that review instead",
                              code="already_reviewed", status=409)
    now = utcnow()
    entry = QaReview(message=message, conversation_id=message.conversation_id, agent_id=message.agent_id,
                     reviewer_id=reviewer.id, comment="", created_at=now, updated_at=now)
    _apply(entry, data, required=True)
    db.session.add(entry)
    db.session.flush()
    audit.record(reviewer, "qa.review", "qa_review", entry.id, after=_state(entry))
    db.session.commit()
    return entry


def update_review(entry: QaReview, data, reviewer: Agent) -> QaReview:
    """Change a review's scores or comment."""
    before = _state(entry)
    _apply(entry, _object(data), required=False)
    entry.updated_at = utcnow()
    audit.record(reviewer, "qa.review_update", "qa_review", entry.id, before=before, after=_state(entry))
    db.session.commit()
    return entry


def find(review_id: int, viewer: Agent) -> QaReview:
    """A review the viewer may see: supervisors see all, agents only their own."""
    entry = db.session.get(QaReview, review_id)
    if entry is None or (viewer.role == "agent" and entry.agent_id != viewer.id):
        raise NotFound("no such review")
    return entry


def list_reviews(viewer: Agent, agent_id: int | None = None, limit: int = 100) -> list[QaReview]:
    """Reviews newest first: an agent gets their own; supervisors anyone's, or one agent's."""
    if viewer.role == "agent":
        if agent_id not in (None, viewer.id):
            raise Forbidden("agents see only their own reviews")
        agent_id = viewer.id
    query = (sa.select(QaReview).options(so.joinedload(QaReview.agent), so.joinedload(QaReview.reviewer),
                                         so.joinedload(QaReview.message))
             .order_by(QaReview.created_at.desc(), QaReview.id.desc()).limit(limit))
    if agent_id is not None:
        query = query.where(QaReview.agent_id == agent_id)
    return db.session.scalars(query).all()


def averages(weeks: int = 12, now: datetime | None = None) -> list[dict]:
    """Each agent's average scores per ISO week over the last `weeks` weeks, oldest week first.

    Returns:
        One row per agent: id, name, and per week the number of reviews and each score's mean.
    """
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValidationError(f"weeks: between 1 and {MAX_WEEKS}", code="invalid_field")
    now = now or utcnow()
    since = (now - timedelta(weeks=weeks - 1, days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = db.session.execute(
        sa.select(QaReview.agent_id, QaReview.created_at, QaReview.accuracy, QaReview.tone, QaReview.resolution)
        .where(QaReview.created_at >= since)).all()
    sums: dict[int, dict[str, list]] = {}
    for agent_id, created, *scores in rows:
        year, week, _ = created.isocalendar()
        bucket = sums.setdefault(agent_id, {}).setdefault(f"{year}-W{week:02d}", [0, 0, 0, 0])
        bucket[0] += 1
        for i, score in enumerate(scores, start=1):
            bucket[i] += score
    names = dict(db.session.execute(sa.select(Agent.id, Agent.name).where(Agent.id.in_(list(sums)))).all())
    return [{"agent": {"id": agent_id, "name": names.get(agent_id)},
             "weeks": [{"week": week, "reviews": n, **{name: round(total / n, 2) for name, total in
                                                         zip(SCORES, totals, strict=True)}}
                       for week, (n, *totals) in sorted(by_week.items())]}
            for agent_id, by_week in sorted(sums.items(), key=lambda item: names.get(item[0]) or "")]


def _apply(entry: QaReview, data: dict, *, required: bool) -> None:
    """Validate and set scores (integers 1-5) and the comment; nothing is set unless all of it is valid."""
    changes = {}
    for name in SCORES:
        if name not in data:
            if required:
                raise ValidationError(f"{name}: is required (1 to 5)", code="invalid_field")
            continue
        value = data[name]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise ValidationError(f"{name}: a whole number from 1 to 5", code="invalid_field")
        changes[name] = value
    if "comment" in data:
        comment = data["comment"]
        if not isinstance(comment, str) or len(comment) > MAX_COMMENT_CHARS or "\x00" in comment:
            raise ValidationError(f"comment: a text of at most {MAX_COMMENT_CHARS} characters", code="invalid_field")
        changes["comment"] = comment.strip()
    for name, value in changes.items():
        setattr(entry, name, value)


def _object(data) -> dict:
    if not isinstance(data, dict):
        raise ValidationError("body: must be a JSON object", code="invalid_body")
    return data


def _state(entry: QaReview) -> dict:
    return {"message_id": entry.message_id, "agent_id": entry.agent_id, "accuracy": entry.accuracy,
            "tone": entry.tone, "resolution": entry.resolution, "comment": entry.comment}
