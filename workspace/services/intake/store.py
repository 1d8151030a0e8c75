"""Storing inbound posts: dedupe, authors, threading and the outbox, in one transaction.

This is the hot path of every webhook, so it speaks SQLAlchemy Core rather than
the ORM (whose unit of work cost about 2.5 ms a post here): a handful of
statements per delivery whatever its size, multi-row inserts with ordered
RETURNING, and small plain records in between.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from workspace.channels.post import InboundAuthor, InboundPost
from workspace.extensions import db
from workspace.models import Author, Conversation, Message, OutboxEntry, utcnow

# Concurrent deliveries of the same new post (or author) race on a unique
# constraint; the loser starts again and then sees the winner's rows.
ATTEMPTS = 3

AUTHORS, CONVERSATIONS, MESSAGES, OUTBOX = (
    model.__table__ for model in (Author, Conversation, Message, OutboxEntry))
PROFILE = ("handle", "name", "email", "followers", "verified", "trust_level", "profile_url", "avatar_url")
NEW_AUTHOR = {"handle": "", "name": "", "email": None, "followers": 0, "verified": False, "trust_level": None,
              "profile_url": None, "avatar_url": None}
THREAD = (CONVERSATIONS.c.id, CONVERSATIONS.c.author_id, CONVERSATIONS.c.status, CONVERSATIONS.c.subject,
          CONVERSATIONS.c.last_message_at)

# Statements are built once: building them per request cost more than running them.
KNOWN_MESSAGES = sa.select(MESSAGES.c.external_id, MESSAGES.c.id, MESSAGES.c.conversation_id).where(
    MESSAGES.c.channel_id == sa.bindparam("channel_id"),
    MESSAGES.c.external_id.in_(sa.bindparam("ids", expanding=True)))
KNOWN_AUTHORS = sa.select(AUTHORS.c.id, AUTHORS.c.external_id, *(AUTHORS.c[name] for name in PROFILE)).where(
    AUTHORS.c.channel_id == sa.bindparam("channel_id"), AUTHORS.c.external_id.in_(sa.bindparam("ids", expanding=True)))
# Authors and messages come back keyed by their external ids, so their multi-row
# inserts need no ordering guarantee; conversations have a sentinel for that.
INSERT_AUTHORS = AUTHORS.insert().returning(AUTHORS.c.external_id, AUTHORS.c.id)
UPDATE_AUTHORS = AUTHORS.update().where(AUTHORS.c.id == sa.bindparam("b_id")).values(
    {name: sa.bindparam(f"b_{name}") for name in (*PROFILE, "updated_at")})
INSERT_CONVERSATIONS = CONVERSATIONS.insert().returning(CONVERSATIONS.c.id, sort_by_parameter_order=True)
INSERT_MESSAGES = MESSAGES.insert().returning(MESSAGES.c.external_id, MESSAGES.c.id)
UPDATE_THREADS = CONVERSATIONS.update().where(CONVERSATIONS.c.id == sa.bindparam("b_id")).values(
    status=sa.bindparam("b_status"), subject=sa.bindparam("b_subject"), last_message_at=sa.bindparam("b_last"),
    updated_at=sa.bindparam("b_now"),
    resolved_at=sa.case((sa.bindparam("b_status") == "resolved", CONVERSATIONS.c.resolved_at), else_=None))
BY_THREAD = sa.select(CONVERSATIONS.c.thread_key, *THREAD).where(
    CONVERSATIONS.c.channel_id == sa.bindparam("channel_id"),
    CONVERSATIONS.c.thread_key.in_(sa.bindparam("keys", expanding=True))).order_by(CONVERSATIONS.c.id)
BY_PARENT = sa.select(MESSAGES.c.external_id, *THREAD).join(
    CONVERSATIONS, MESSAGES.c.conversation_id == CONVERSATIONS.c.id).where(
    MESSAGES.c.channel_id == sa.bindparam("channel_id"),
    MESSAGES.c.external_id.in_(sa.bindparam("ids", expanding=True)))
BY_AUTHOR = sa.select(*THREAD).where(
    CONVERSATIONS.c.author_id.in_(sa.bindparam("authors", expanding=True)),
    CONVERSATIONS.c.channel_id == sa.bindparam("channel_id"), CONVERSATIONS.c.status != "spam",
    # A private conversation (a direct message) is joined by its thread only, never by an author's public post.
    CONVERSATIONS.c.private.is_(False),
    CONVERSATIONS.c.last_message_at >= sa.bindparam("since", type_=CONVERSATIONS.c.last_message_at.type),
).order_by(CONVERSATIONS.c.last_message_at, CONVERSATIONS.c.id)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one delivered post."""

    external_id: str
    status: str  # "stored" or "duplicate"
    conversation_id: int
    message_id: int


@dataclass(slots=True)
class _Thread:
    """The little of a conversation that threading needs; id is None until inserted."""

    id: int | None
    author_id: int
    status: str
    subject: str
    last_message_at: datetime
    changed: bool = False


def store_posts(channel_id: int, posts: list[InboundPost], *, window_seconds: int) -> list[Outcome]:
    """Store a delivery's posts atomically and record their routing work.

    Args:
        channel_id: the channel the posts came in on.
        posts: validated posts, in delivery order.
        window_seconds: how recent an author's conversation must be to absorb a
            post that names no thread.

    Returns:
        One outcome per post, in order; committed before this returns.
    """
    for attempt in range(ATTEMPTS):
        try:
            outcomes = stage_posts(channel_id, posts, window_seconds)
            db.session.commit()
            return outcomes
        except IntegrityError:
            db.session.rollback()
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def stage_posts(channel_id: int, posts: list[InboundPost], window_seconds: int) -> list[Outcome]:
    """Write a delivery into the current transaction without committing it.

    Args:
        channel_id: the channel the posts came in on.
        posts: validated posts, in delivery order.
        window_seconds: see store_posts.

    Returns:
        One outcome per post, valid once the caller commits.
    """
    window = timedelta(seconds=window_seconds)
    known = _known_messages(channel_id, {post.external_id for post in posts})
    fresh: dict[str, InboundPost] = {}
    for post in posts:
        if post.external_id not in known:
            fresh.setdefault(post.external_id, post)
    if fresh:
        known.update(_insert(channel_id, list(fresh.values()), window, utcnow()))
    outcomes, reported = [], set()
    for post in posts:
        message_id, conversation_id = known[post.external_id]
        status = "stored" if post.external_id in fresh and post.external_id not in reported else "duplicate"
        reported.add(post.external_id)
        outcomes.append(Outcome(post.external_id, status, conversation_id, message_id))
    return outcomes


def _run(statement, parameters=None):
    """Execute on the session's connection: same transaction, without the ORM's per-call work."""
    return db.session.connection().execute(statement, parameters)


def _known_messages(channel_id: int, external_ids: set[str]) -> dict[str, tuple[int, int]]:
    rows = _run(KNOWN_MESSAGES, {"channel_id": channel_id, "ids": list(external_ids)})
    return {external_id: (message_id, conversation_id) for external_id, message_id, conversation_id in rows}


def _insert(channel_id: int, posts: list[InboundPost], window: timedelta, now: datetime) -> dict[str, tuple[int, int]]:
    """Insert the posts' messages, conversations and outbox rows; return ids by external id."""
    authors = _upsert_authors(channel_id, [post.author for post in posts], now)
    finder = _ThreadFinder(channel_id, posts, set(authors.values()), window)
    placed: list[tuple[InboundPost, _Thread, datetime]] = []
    for post in posts:
        author_id = authors[post.author.external_id]
        posted_at = post.created_at or now
        thread = finder.find(post, author_id, posted_at)
        if thread is None:
            thread = _Thread(None, author_id, "new", post.subject, posted_at)
        else:
            _absorb(thread, post, posted_at)
        finder.remember(post, thread)
        placed.append((post, thread, posted_at))

    new_threads = list({id(t): t for _, t, _ in placed if t.id is None}.values())
    created: set[int] = set()
    if new_threads:
        first_posts = {}
        for post, thread, posted_at in placed:
            first_posts.setdefault(id(thread), (post, posted_at))
        rows = [_conversation_row(channel_id, thread, *first_posts[id(thread)], now) for thread in new_threads]
        ids = _run(INSERT_CONVERSATIONS, rows).scalars()
        for thread, conversation_id in zip(new_threads, ids, strict=True):
            thread.id = conversation_id
            created.add(conversation_id)
    changed = list({id(t): t for _, t, _ in placed if t.changed}.values())
    if changed:
        _run(UPDATE_THREADS, [{"b_id": t.id, "b_status": t.status, "b_subject": t.subject,
                               "b_last": t.last_message_at, "b_now": now} for t in changed])
    message_ids = dict(_run(
        INSERT_MESSAGES,
        [_message_row(channel_id, post, thread, authors[post.author.external_id], posted_at, now)
         for post, thread, posted_at in placed],
    ).all())
    # Automatic mail joining a conversation leaves it as it was: nothing new for routing to decide.
    routable = {t.id for post, t, _ in placed if t.status != "spam" and (t.id in created or not post.automatic)}
    if routable:
        _run(OUTBOX.insert(), [{"conversation_id": cid, "created_at": now} for cid in sorted(routable)])
    return {post.external_id: (message_ids[post.external_id], thread.id) for post, thread, _ in placed}


def _conversation_row(channel_id: int, thread: _Thread, post: InboundPost, posted_at: datetime, now) -> dict:
    return {"channel_id": channel_id, "author_id": thread.author_id, "status": "new", "subject": thread.subject,
            "thread_key": post.thread_id, "tags": [], "private": post.private, "created_at": posted_at,
            "updated_at": now, "last_message_at": thread.last_message_at}


def _message_row(channel_id: int, post: InboundPost, thread: _Thread, author_id: int, posted_at, now) -> dict:
    return {"conversation_id": thread.id, "channel_id": channel_id, "author_id": author_id,
            "direction": "inbound", "external_id": post.external_id, "in_reply_to": post.in_reply_to,
            "subject": post.subject, "text": post.text, "url": post.url, "raw": post.raw,
            "created_at": posted_at, "received_at": now}


def _absorb(thread: _Thread, post: InboundPost, posted_at: datetime) -> None:
    """Fold a follow-up post into its conversation (a resolved one re-opens, unless a machine sent the post)."""
    if thread.status == "resolved" and not post.automatic:
        thread.status = "open"
    if not thread.subject and post.subject:
        thread.subject = post.subject
    thread.last_message_at = max(thread.last_message_at, posted_at)
    thread.changed = thread.id is not None


def _upsert_authors(channel_id: int, people: list[InboundAuthor], now: datetime) -> dict[str, int]:
    """Return author ids by external id, creating authors and refreshing changed profiles."""
    latest = {person.external_id: person for person in people}  # the last word wins
    found = {row.external_id: row for row in _run(KNOWN_AUTHORS, {"channel_id": channel_id, "ids": list(latest)})}
    ids = {external_id: row.id for external_id, row in found.items()}
    missing = [person for external_id, person in latest.items() if external_id not in found]
    if missing:
        rows = [{"channel_id": channel_id, "external_id": person.external_id, "tags": [], "created_at": now,
                 "updated_at": now, **NEW_AUTHOR, **_profile(person)} for person in missing]
        ids.update(_run(INSERT_AUTHORS, rows).all())
    refreshed = []
    for external_id, row in found.items():
        current = {name: getattr(row, name) for name in PROFILE}
        merged = {**current, **_profile(latest[external_id])}
        if merged != current:
            refreshed.append({"b_id": row.id, "b_updated_at": now, **{f"b_{k}": v for k, v in merged.items()}})
    if refreshed:
        _run(UPDATE_AUTHORS, refreshed)
    return ids


def _profile(person: InboundAuthor) -> dict:
    """What the sender told us about an author; fields it left out are not touched."""
    values = {"handle": person.handle or None, "name": person.name or None, "email": person.email,
              "followers": person.followers, "verified": person.verified, "trust_level": person.trust_level,
              "profile_url": person.profile_url, "avatar_url": person.avatar_url}
    return {key: value for key, value in values.items() if value is not None}


class _ThreadFinder:
    """Finds the conversation a post joins: its thread, its parent, or its author's recent one."""

    def __init__(self, channel_id: int, posts: list[InboundPost], author_ids: set[int], window: timedelta):
        self.window = window
        self.by_thread: dict[str, _Thread] = {}
        self.by_message: dict[str, _Thread] = {}
        self.by_author: dict[int, _Thread] = {}
        thread_keys = [post.thread_id for post in posts if post.thread_id]
        if thread_keys:
            for key, *values in _run(BY_THREAD, {"channel_id": channel_id, "keys": thread_keys}):
                self.by_thread[key] = _Thread(*values)  # the newest wins
        parents = [post.in_reply_to for post in posts if post.in_reply_to]
        if parents:
            rows = _run(BY_PARENT, {"channel_id": channel_id, "ids": parents})
            self.by_message = {key: _Thread(*values) for key, *values in rows}
        earliest = min((post.created_at or utcnow()) for post in posts) - window
        for values in _run(BY_AUTHOR, {"channel_id": channel_id, "authors": list(author_ids), "since": earliest}):
            self.by_author[values[1]] = _Thread(*values)  # the latest wins
        self._dedupe()

    def _dedupe(self) -> None:
        """Make every index point at one record per conversation, so updates are seen by all."""
        canonical: dict[int, _Thread] = {}
        for index in (self.by_thread, self.by_message, self.by_author):
            for key, thread in index.items():
                index[key] = canonical.setdefault(thread.id, thread)

    def find(self, post: InboundPost, author_id: int, posted_at: datetime) -> _Thread | None:
        """Return the conversation this post belongs to, or None for a new one."""
        if post.thread_id and post.thread_id in self.by_thread:
            return self.by_thread[post.thread_id]
        if post.in_reply_to and post.in_reply_to in self.by_message:
            return self.by_message[post.in_reply_to]
        if post.thread_id:
            return None  # a thread we have not seen starts its own conversation
        recent = self.by_author.get(author_id)
        if recent is not None and recent.status != "spam" and posted_at - recent.last_message_at <= self.window:
            return recent
        return None

    def remember(self, post: InboundPost, thread: _Thread) -> None:
        """Make later posts of the same delivery find this post's conversation."""
        self.by_message[post.external_id] = thread
        if post.thread_id:
            self.by_thread.setdefault(post.thread_id, thread)
        if not post.private:  # see BY_AUTHOR: the author window joins public conversations only
            self.by_author[thread.author_id] = thread
