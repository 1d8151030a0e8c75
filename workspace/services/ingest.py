"""Storing inbound posts: dedupe, authors, threading and the outbox, in one transaction."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..ingest.post import InboundAuthor, InboundPost
from ..models import Author, Channel, Conversation, Message, OutboxEntry, utcnow

# Concurrent deliveries of the same new post (or author) race on a unique
# constraint; the loser retries once and then sees the winner's rows.
ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one delivered post."""

    external_id: str
    status: str  # "stored" or "duplicate"
    conversation_id: int
    message_id: int


def store_posts(channel: Channel, posts: list[InboundPost], *, window_seconds: int) -> list[Outcome]:
    """Store a delivery's posts atomically and record their routing work.

    Args:
        channel: the channel the posts came in on.
        posts: validated posts, in delivery order.
        window_seconds: how recent an author's conversation must be to absorb a
            post that names no thread.

    Returns:
        One outcome per post, in order; committed before this returns.
    """
    for attempt in range(ATTEMPTS):
        try:
            outcomes = _store(channel, posts, timedelta(seconds=window_seconds))
            db.session.commit()
            return outcomes
        except IntegrityError:
            db.session.rollback()
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _store(channel: Channel, posts: list[InboundPost], window: timedelta) -> list[Outcome]:
    now = utcnow()
    known = _known_messages(channel.id, {post.external_id for post in posts})
    fresh: dict[str, InboundPost] = {}
    for post in posts:
        if post.external_id not in known:
            fresh.setdefault(post.external_id, post)
    stored: dict[str, Message] = {}
    if fresh:
        stored = _insert(channel, list(fresh.values()), window, now)
        db.session.flush()
    outcomes = []
    for post in posts:
        message = stored.pop(post.external_id, None)
        if message is not None:
            outcomes.append(Outcome(post.external_id, "stored", message.conversation_id, message.id))
            continue
        message_id, conversation_id = known.get(post.external_id) or _first_copy(outcomes, post)
        outcomes.append(Outcome(post.external_id, "duplicate", conversation_id, message_id))
    return outcomes


def _first_copy(outcomes: list[Outcome], post: InboundPost) -> tuple[int, int]:
    """Find the earlier copy of a post repeated within one delivery."""
    first = next(o for o in outcomes if o.external_id == post.external_id)
    return first.message_id, first.conversation_id


def _known_messages(channel_id: int, external_ids: set[str]) -> dict[str, tuple[int, int]]:
    rows = db.session.execute(
        sa.select(Message.external_id, Message.id, Message.conversation_id).where(
            Message.channel_id == channel_id, Message.external_id.in_(external_ids)
        )
    )
    return {external_id: (message_id, conversation_id) for external_id, message_id, conversation_id in rows}


def _insert(channel: Channel, posts: list[InboundPost], window: timedelta, now: datetime) -> dict[str, Message]:
    authors = _upsert_authors(channel, [post.author for post in posts], now)
    finder = _ThreadFinder(channel.id, posts, authors, window)
    messages: dict[str, Message] = {}
    touched: dict[int, Conversation] = {}
    for post in posts:
        author = authors[post.author.external_id]
        posted_at = post.created_at or now
        conversation = finder.find(post, author, posted_at)
        if conversation is None:
            conversation = Conversation(
                channel_id=channel.id, author=author, status="new", subject=post.subject,
                thread_key=post.thread_id, created_at=posted_at, updated_at=now,
                last_message_at=posted_at,
            )
            db.session.add(conversation)
        else:
            _absorb(conversation, post, posted_at, now)
        finder.remember(post, author, conversation)
        message = Message(
            conversation=conversation, channel_id=channel.id, author=author,
            direction="inbound", external_id=post.external_id, in_reply_to=post.in_reply_to,
            subject=post.subject, text=post.text, url=post.url, raw=post.raw,
            created_at=posted_at, received_at=now,
        )
        db.session.add(message)
        messages[post.external_id] = message
        touched[id(conversation)] = conversation
    for conversation in touched.values():
        if conversation.status != "spam":
            db.session.add(OutboxEntry(conversation=conversation, created_at=now))
    return messages


def _absorb(conversation: Conversation, post: InboundPost, posted_at: datetime, now: datetime) -> None:
    """Update an existing conversation for a follow-up post (a resolved one re-opens)."""
    if conversation.status == "resolved":
        conversation.status = "open"
        conversation.resolved_at = None
    if not conversation.subject and post.subject:
        conversation.subject = post.subject
    conversation.last_message_at = max(conversation.last_message_at, posted_at)
    conversation.updated_at = now


def _upsert_authors(channel: Channel, people: list[InboundAuthor], now: datetime) -> dict[str, Author]:
    """Return the channel's authors by external id, creating or refreshing them."""
    latest = {person.external_id: person for person in people}  # the last word wins
    found = {
        author.external_id: author
        for author in db.session.scalars(
            sa.select(Author).where(Author.channel_id == channel.id, Author.external_id.in_(latest))
        )
    }
    for external_id, person in latest.items():
        author = found.get(external_id)
        if author is None:
            author = Author(channel_id=channel.id, external_id=external_id, tags=[], created_at=now)
            db.session.add(author)
            found[external_id] = author
        _refresh(author, person, now)
    return found


def _refresh(author: Author, person: InboundAuthor, now: datetime) -> None:
    """Copy what the sender told us about the author; absent fields keep their value."""
    changes = {
        "handle": person.handle or None, "name": person.name or None, "email": person.email,
        "followers": person.followers, "verified": person.verified,
    }
    for attribute, value in changes.items():
        if value is not None and getattr(author, attribute, None) != value:
            setattr(author, attribute, value)
            author.updated_at = now


class _ThreadFinder:
    """Finds the conversation a post joins: its thread, its parent, or its author's recent one."""

    def __init__(self, channel_id: int, posts: list[InboundPost], authors: dict[str, Author],
                 window: timedelta):
        self.window = window
        thread_keys = {post.thread_id for post in posts if post.thread_id}
        parents = {post.in_reply_to for post in posts if post.in_reply_to}
        self.by_thread: dict[str, Conversation] = {}
        self.by_message: dict[str, Conversation] = {}
        self.by_author: dict[int, Conversation] = {}
        if thread_keys:
            for conversation in db.session.scalars(
                sa.select(Conversation)
                .where(Conversation.channel_id == channel_id, Conversation.thread_key.in_(thread_keys))
                .order_by(Conversation.id)
            ):
                self.by_thread[conversation.thread_key] = conversation  # the newest wins
        if parents:
            rows = db.session.execute(
                sa.select(Message.external_id, Conversation)
                .join(Conversation, Message.conversation_id == Conversation.id)
                .where(Message.channel_id == channel_id, Message.external_id.in_(parents))
            )
            self.by_message = {external_id: conversation for external_id, conversation in rows}
        author_ids = [author.id for author in authors.values() if author.id is not None]
        if author_ids:
            earliest = min((post.created_at or utcnow()) for post in posts) - window
            for conversation in db.session.scalars(
                sa.select(Conversation)
                .where(
                    Conversation.author_id.in_(author_ids),
                    Conversation.channel_id == channel_id,
                    Conversation.status != "spam",
                    Conversation.last_message_at >= earliest,
                )
                .order_by(Conversation.last_message_at, Conversation.id)
            ):
                self.by_author[conversation.author_id] = conversation  # the latest wins

    def find(self, post: InboundPost, author: Author, posted_at: datetime) -> Conversation | None:
        """Return the conversation this post belongs to, or None for a new one."""
        if post.thread_id and post.thread_id in self.by_thread:
            return self.by_thread[post.thread_id]
        if post.in_reply_to and post.in_reply_to in self.by_message:
            return self.by_message[post.in_reply_to]
        if post.thread_id:
            return None  # a thread we have not seen starts its own conversation
        recent = self.by_author.get(author.id) if author.id is not None else None
        if recent is None:
            recent = self.by_author.get(id(author))
        if recent is not None and posted_at - recent.last_message_at <= self.window:
            return recent
        return None

    def remember(self, post: InboundPost, author: Author, conversation: Conversation) -> None:
        """Make later posts of the same delivery find this post's conversation."""
        self.by_message[post.external_id] = conversation
        if post.thread_id:
            self.by_thread.setdefault(post.thread_id, conversation)
        self.by_author[author.id if author.id is not None else id(author)] = conversation
