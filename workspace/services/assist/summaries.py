"""A conversation's extractive summary (suggestions.summary), from its thread."""

import sqlalchemy as sa

from suggestions.summary import Summary, summarize
from workspace.extensions import db
from workspace.models import Conversation, Message

# A summary reads at most this many messages: the first (the problem) and the newest ones.
MAX_MESSAGES = 200


def summary_of(conversation: Conversation) -> tuple[Summary | None, int]:
    """The summary of the conversation's thread (its first post and up to MAX_MESSAGES newest messages), and how
    many messages the thread holds."""
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
        Message.conversation_id == conversation.id))
    first = db.session.execute(sa.select(Message.id, Message.direction, Message.text).where(
        Message.conversation_id == conversation.id, Message.direction == "inbound").order_by(Message.id)
        .limit(1)).first()
    if first is None:
        return None, count
    newest = db.session.execute(sa.select(Message.id, Message.direction, Message.text).where(
        Message.conversation_id == conversation.id, Message.id > first.id).order_by(Message.id.desc())
        .limit(MAX_MESSAGES)).all()
    return summarize([(first.direction, first.text)] + [(m.direction, m.text) for m in reversed(newest)]), count


def serialize_summary(summary: Summary | None, messages: int) -> dict:
    """A summary as the API gives it (problem null when there is no customer post)."""
    if summary is None:
        return {"problem": None, "tried": [], "last": None, "messages": messages}
    return {"problem": summary.problem, "tried": summary.tried, "last": summary.last or None, "messages": messages}
