"""Knowing the customer: tags and internal notes on authors, audited."""

from workspace.errors import NotFound, ValidationError
from workspace.extensions import db
from workspace.models import Agent, Author, AuthorNote, utcnow
from workspace.services import audit
from workspace.services.conversations.actions import clean_tags

MAX_NOTE_CHARS = 5_000


def _text(text) -> str:
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_NOTE_CHARS or "\x00" in text:
        raise ValidationError(f"text: 1 to {MAX_NOTE_CHARS} characters", code="invalid_field")
    return text.strip()


def set_author_tags(author: Author, tags, agent: Agent) -> Author:
    """Replace a customer's tags (vip, problem, employee, or any other)."""
    cleaned = clean_tags(tags)
    before = list(author.tags or [])
    if cleaned != before:
        author.tags = cleaned
        author.updated_at = utcnow()
        audit.record(agent, "author.tags", "author", author.id, before={"tags": before}, after={"tags": cleaned})
        db.session.commit()
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
    note = db.session.get(AuthorNote, note_id)
    if note is None or note.author_id != author.id:
        raise NotFound(f"no note {note_id} on this customer")
    return note


def edit_author_note(note: AuthorNote, text, agent: Agent) -> AuthorNote:
    """Change a note's text (any agent may correct a note; the audit log keeps the old text)."""
    before = note.text
    note.text = _text(text)
    note.updated_at = utcnow()
    audit.record(agent, "author.note.update", "author_note", note.id, before={"text": before},
                 after={"text": note.text})
    db.session.commit()
    return note


def delete_author_note(note: AuthorNote, agent: Agent) -> None:
    """Delete a note (kept in the audit log)."""
    audit.record(agent, "author.note.delete", "author_note", note.id, before={"text": note.text})
    db.session.delete(note)
    db.session.commit()
