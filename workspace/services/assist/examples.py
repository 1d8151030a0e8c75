"""What the ranker learns from: the usable macros, the macros agents applied to posts, the replies they wrote."""

import sqlalchemy as sa

from workspace.extensions import db
from workspace.models import Article, AuditEntry, Conversation, Macro, Message

# How much of a reply the ranker keeps to tell identical canned answers apart.
REPLY_KEY_CHARS = 2000


def post_text(subject: str | None, text: str) -> str:
    """A post as the ranker reads it: subject and text together."""
    return f"{subject}\n{text}" if subject else text


def watermark() -> dict:
    """The newest macro application and reply now stored: a version learns from everything up to these."""
    return {"audit_id": db.session.scalar(sa.select(sa.func.max(AuditEntry.id))
                                          .where(AuditEntry.action == "conversation.macro")) or 0,
            "message_id": db.session.scalar(sa.select(sa.func.max(Message.id))
                                            .where(Message.direction == "outbound")) or 0}


def macro_texts() -> list[tuple[int, str]]:
    """Every macro as (id, its name, description and template as one text): the cold start's words."""
    return [(macro_id, f"{name}\n{description}\n{template}") for macro_id, name, description, template
            in db.session.execute(sa.select(Macro.id, Macro.name, Macro.description, Macro.template)
                                  .order_by(Macro.id))]


def article_texts() -> list[tuple[int, str]]:
    """Every published help article as (id, its title, tags and body as one text)."""
    return [(article_id, f"{title}\n{' '.join(tags or [])}\n{body}") for article_id, title, tags, body
            in db.session.execute(sa.select(Article.id, Article.title, Article.tags, Article.body)
                                  .where(Article.status == "published").order_by(Article.id))]


def _first_posts():
    return (sa.select(Message.conversation_id, sa.func.min(Message.id).label("message_id"))
            .where(Message.direction == "inbound").group_by(Message.conversation_id).subquery())


def applied_macros(mark: dict) -> list[tuple[int, str, int]]:
    """(conversation id, its first post, macro id) for each macro an agent applied, up to the watermark."""
    first = _first_posts()
    rows = db.session.execute(
        sa.select(AuditEntry.target_id, AuditEntry.after, Conversation.subject, Message.text)
        .join(Conversation, Conversation.id == AuditEntry.target_id)
        .join(first, first.c.conversation_id == Conversation.id)
        .join(Message, Message.id == first.c.message_id)
        .where(AuditEntry.action == "conversation.macro", AuditEntry.id <= mark["audit_id"])
        .order_by(AuditEntry.id))
    return [(conversation_id, post_text(subject, text), after["macro_id"])
            for conversation_id, after, subject, text in rows
            if isinstance(after, dict) and isinstance(after.get("macro_id"), int)]


def past_replies(mark: dict) -> list[tuple[str, int, str]]:
    """(first post, reply id, reply text) for every agent's reply, up to the watermark."""
    first = _first_posts()
    post = sa.orm.aliased(Message)
    rows = db.session.execute(
        sa.select(Conversation.subject, post.text, Message.id, Message.text)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .join(first, first.c.conversation_id == Conversation.id)
        .join(post, post.id == first.c.message_id)
        .where(Message.direction == "outbound", Message.agent_id.is_not(None), Message.id <= mark["message_id"])
        .order_by(Message.id))
    return [(post_text(subject, text), reply_id, reply[:REPLY_KEY_CHARS]) for subject, text, reply_id, reply in rows]


def latest_posts(conversation_ids: list[int]) -> dict[int, tuple[int, str]]:
    """Each conversation's newest inbound post as (message id, text with the subject)."""
    newest = (sa.select(sa.func.max(Message.id)).where(Message.direction == "inbound",
                                                        Message.conversation_id.in_(conversation_ids))
              .group_by(Message.conversation_id))
    rows = db.session.execute(sa.select(Message.conversation_id, Message.id, Conversation.subject, Message.text)
                              .join(Conversation, Conversation.id == Message.conversation_id)
                              .where(Message.id.in_(newest)))
    return {conversation_id: (message_id, post_text(subject, text))
            for conversation_id, message_id, subject, text in rows}
