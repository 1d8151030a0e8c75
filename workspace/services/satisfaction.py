"""Satisfaction (CSAT): the signed survey link, the customer's one answer, and the figures per agent and queue.

The link carries the conversation's id signed with the app's secret key (no
account, no guessable ids); the answer is unique per conversation in the
database, so a second one, or two at once, is refused and the first kept.
"""

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from workspace.errors import NotFound, SwitchboardError, ValidationError
from workspace.extensions import db
from workspace.live import signals
from workspace.live.changes import announce
from workspace.models import Conversation, SatisfactionRating

SALT = "switchboard-satisfaction-survey"
# A survey link works this long after it was made.
MAX_AGE_SECONDS = 30 * 86400
MAX_COMMENT_CHARS = 2000
SCORES = (1, 2, 3, 4, 5)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def survey_url(conversation_id: int) -> str:
    """The public survey link for a conversation (what templates show as `conversation.survey_url`)."""
    return f"{current_app.config['PUBLIC_URL']}/survey/{_serializer().dumps(conversation_id)}"


def conversation_for(token: str) -> Conversation:
    """The conversation a survey link names; NotFound for a link that is forged, mangled or too old."""
    try:
        conversation_id = _serializer().loads(token, max_age=MAX_AGE_SECONDS)
    except BadSignature:
        raise NotFound("this survey link is not valid (or has expired)") from None
    conversation = db.session.get(Conversation, conversation_id) if isinstance(conversation_id, int) else None
    if conversation is None:
        raise NotFound("this survey link is not valid (or has expired)")
    return conversation


def rating_of(conversation_id: int) -> SatisfactionRating | None:
    """The conversation's answer, if the customer gave one."""
    return db.session.scalar(sa.select(SatisfactionRating).where(SatisfactionRating.conversation_id == conversation_id))


def answer(token: str, score, comment) -> SatisfactionRating:
    """Store the customer's answer (1-5 and an optional comment), once per conversation.

    Raises:
        NotFound: the link is not valid.
        ValidationError: the score or comment is not one.
        SwitchboardError: 409 already_answered when the conversation has its answer (the first one stands).
    """
    conversation = conversation_for(token)
    if isinstance(score, str) and score.isdigit():
        score = int(score)
    if score not in SCORES or isinstance(score, bool):
        raise ValidationError("score: a whole number from 1 to 5", code="invalid_field")
    comment = comment or ""
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT_CHARS or "\x00" in comment:
        raise ValidationError(f"comment: at most {MAX_COMMENT_CHARS} characters", code="invalid_field")
    rating = SatisfactionRating(conversation_id=conversation.id, score=score, comment=comment.strip(),
                                agent_id=conversation.assignee_id, queue_id=conversation.queue_id)
    db.session.add(rating)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise SwitchboardError("this conversation has its answer already: thank you", code="already_answered",
                               status=409) from None
    announce(signals.ratings_received, rating.id)
    return rating


def summary(since: datetime, until: datetime | None = None) -> dict:
    """Answers since `since` (and before `until`): count, average and share of 4s and 5s, overall, per agent and
    per queue (read by the created_at index: a period's answers only)."""
    satisfied = sa.func.sum(sa.case((SatisfactionRating.score >= 4, 1), else_=0))
    columns = (sa.func.count(), sa.func.avg(SatisfactionRating.score), satisfied)
    recent = SatisfactionRating.created_at >= since
    if until is not None:
        recent = sa.and_(recent, SatisfactionRating.created_at < until)

    def figures(count, average, happy) -> dict:
        return {"answers": count, "average": round(float(average), 2) if count else None,
                "satisfied": round(happy / count, 3) if count else None}

    overall = db.session.execute(sa.select(*columns).where(recent)).one()
    by = {}
    for key, column in (("agents", SatisfactionRating.agent_id), ("queues", SatisfactionRating.queue_id)):
        rows = db.session.execute(sa.select(column, *columns).where(recent, column.is_not(None)).group_by(column))
        by[key] = [{"id": row[0], **figures(*row[1:])} for row in rows]
    return {"since": since, **figures(*overall), **by}
