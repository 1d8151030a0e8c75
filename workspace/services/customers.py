"""Knowing the customer: tags and internal notes on authors, audited, seen only through visible conversations.

An author linked to others (services.people) is read as their person: one history
across channels and the notes written on any of them.
"""

import base64
from datetime import datetime

import sqlalchemy as sa

from workspace.errors import Forbidden, NotFound, ValidationError
from workspace.extensions import db
from workspace.live.changes import Changes
from workspace.models import Agent, Author, AuthorNote, Conversation, is_id, utcnow
from workspace.serializers import SERIALIZED
from workspace.services import audit
from workspace.services.conversations.actions import clean_tags
from workspace.services.conversations.queues import visible_queue_ids
from workspace.services.people.profiles import author_ids_of
from workspace.services.triage.rescoring import rescore_author

MAX_NOTE_CHARS = 5_000


def _text(text) -> str:
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_NOTE_CHARS or "\x00" in text:
        raise ValidationError(f"text: 1 to {MAX_NOTE_CHARS} characters", code="invalid_field")
    return text.strip()


def _visible_conversations(agent: Agent):
    """The conditions limiting conversations to those the agent may see (none for supervisors and admins)."""
    if agent.role != "agent":
        return []
    return [Conversation.queue_id.in_(visible_queue_ids(agent))]


def can_see_author(agent: Agent, author: Author) -> bool:
    """Supervisors and admins see every customer; agents those with a conversation in a queue they work."""
    if agent.role != "agent":
        return True
    return db.session.scalar(sa.select(sa.exists().where(
        Conversation.author_id == author.id, *_visible_conversations(agent)))) or False


def can_see_any(agent: Agent, author_ids: list[int]) -> set[int]:
    """Which of these authors the agent may see (all of them for supervisors and admins)."""
    if agent.role != "agent" or not author_ids:
        return set(author_ids)
    return set(db.session.scalars(sa.select(Conversation.author_id).where(
        Conversation.author_id.in_(author_ids), *_visible_conversations(agent)).distinct()))


def visible_author(author_id: int, agent: Agent) -> Author:
    """Return a customer the agent may see; any other does not exist for them (404, so ids do not leak)."""
    author = db.session.get(Author, author_id) if is_id(author_id) else None
    if author is None or not can_see_author(agent, author):
        raise NotFound(f"no author {author_id}")
    return author


def customer_history(author: Author, agent: Agent, *, limit: int,
                     cursor: str | None = None) -> tuple[list[Conversation], str | None]:
    """A page of the customer's conversations the agent may see, newest first, across their person's channels.

    Read by the (author_id, last_message_at) index, so a customer with years
    of history costs one page (per author of their person).

    Args:
        author: the customer.
        agent: who is looking (agents see their queues' conversations only).
        limit: the page's size.
        cursor: where the previous page ended (its `next` cursor).

    Returns:
        (the conversations, the cursor to the next page or None at the end)
    """
    query = sa.select(Conversation).options(*SERIALIZED).where(Conversation.author_id.in_(author_ids_of(author)),
                                                               *_visible_conversations(agent))
    if cursor is not None:
        moment, last_id = _decode_history_cursor(cursor)
        moment = sa.literal(moment, type_=Conversation.last_message_at.type)
        query = query.where(sa.or_(Conversation.last_message_at < moment,
                                   sa.and_(Conversation.last_message_at == moment, Conversation.id < last_id)))
    rows = db.session.scalars(query.order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
                              .limit(limit + 1)).unique().all()
    page = list(rows[:limit])
    return page, _encode_history_cursor(page[-1]) if len(rows) > limit else None


def _encode_history_cursor(conversation: Conversation) -> str:
    key = f"{conversation.last_message_at.isoformat()}|{conversation.id}"
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def _decode_history_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        moment, _, last_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition("|")
        parsed = datetime.fromisoformat(moment)
        if parsed.tzinfo is None or not is_id(int(last_id)):
            raise ValueError(cursor)
        return parsed, int(last_id)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("cursor: not a cursor this API returned", code="invalid_cursor")


def customer_notes(author: Author) -> list[AuthorNote]:
    """The customer's internal notes (on any author of their person), newest first."""
    return list(db.session.scalars(sa.select(AuthorNote).where(AuthorNote.author_id.in_(author_ids_of(author)))
                                   .order_by(AuthorNote.id.desc())))


def set_author_tags(author: Author, tags, agent: Agent) -> Author:
    """Replace a customer's tags (vip, problem, employee, or any other); their unresolved conversations are
    re-prioritised for them in the same transaction (a new VIP's open conversation rises at once)."""
    cleaned = clean_tags(tags)
    before = list(author.tags or [])
    if cleaned != before:
        now = utcnow()
        author.tags = cleaned
        author.updated_at = now
        changes = Changes()
        rescore_author(author, changes, now)
        audit.record(agent, "author.tags", "author", author.id, before={"tags": before}, after={"tags": cleaned})
        db.session.commit()
        changes.publish()
    return author


def add_author_note(author: Author, text, agent: Agent) -> AuthorNote:
    """Add an internal note about a customer."""
    note = AuthorNote(author_id=author.id, agent_id=agent.id, text=_text(text))
    db.session.add(note)
    db.session.flush()
    audit.record(agent, "author.note.create", "author_note", note.id, after={"text": note.text})
    db.session.commit()
    return note


def get_note(author: Author, note_id: int) -> AuthorNote:
    """Return one of a customer's notes or raise NotFound."""
    note = db.session.get(AuthorNote, note_id) if is_id(note_id) else None
    if note is None or note.author_id != author.id:
        raise NotFound(f"no note {note_id} on this customer")
    return note


def _ensure_writer(note: AuthorNote, agent: Agent) -> None:
    """Only a note's writer may change or delete it; admins may change any."""
    if agent.role != "admin" and note.agent_id != agent.id:
        raise Forbidden("only the note's writer (or an admin) may change it", code="not_your_note")


def edit_author_note(note: AuthorNote, text, agent: Agent) -> AuthorNote:
    """Change a note's text (its writer or an admin; the audit log keeps the old text)."""
    _ensure_writer(note, agent)
    before = note.text
    note.text = _text(text)
    note.updated_at = utcnow()
    audit.record(agent, "author.note.update", "author_note", note.id, before={"text": before},
                 after={"text": note.text})
    db.session.commit()
    return note


def delete_author_note(note: AuthorNote, agent: Agent) -> None:
    """Delete a note (its writer or an admin; kept in the audit log)."""
    _ensure_writer(note, agent)
    audit.record(agent, "author.note.delete", "author_note", note.id, before={"text": note.text})
    db.session.delete(note)
    db.session.commit()
