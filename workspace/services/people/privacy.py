"""A person's data: everything Switchboard holds about them as JSON, erasing it, and the retention policy.

Erasing empties every post of theirs and every message of their conversations
(text, subject, the sender's payload, edit history), deletes the notes on them
and the links between their authors, and blanks their profiles (handle, name,
email, addresses, tags, the platform's id, so a later post starts a stranger);
the search index follows in the same transaction (FTS5 triggers, the generated
`tsvector`). Audit entries about them lose their before/after; the audit keeps
that an erasure happened, by whom, and how much it touched. The supervision
rollups hold counts per queue, tag and label, nothing of theirs.
"""

from datetime import timedelta

import sqlalchemy as sa

from workspace.errors import ValidationError
from workspace.extensions import db
from workspace.models import Agent, AuditEntry, Author, AuthorNote, Conversation, Message, Person, PersonLink, utcnow
from workspace.serializers import (
    serialize_author,
    serialize_author_note,
    serialize_conversation,
    serialize_message,
    serialize_person_link,
    timestamp,
)
from workspace.services import audit
from workspace.services.people.profiles import author_ids_of

RETENTION_MODES = ("redact", "delete")
# Conversations handled per transaction by the retention job (and per progress report).
RETENTION_BATCH = 500
# What a redacted message keeps of its words.
REDACTED = {"text": "", "subject": "", "raw": sa.null(), "edits": sa.null(), "url": None}


def export_person(author: Author) -> dict:
    """Everything held about the author's person: profiles, person and fields, notes, links, every conversation
    with every message (supervisors and admins: not limited to queues)."""
    ids = author_ids_of(author)
    authors = db.session.scalars(sa.select(Author).where(Author.id.in_(ids)).order_by(Author.id)).all()
    conversations = db.session.scalars(sa.select(Conversation).where(Conversation.author_id.in_(ids))
                                       .order_by(Conversation.id)).all()
    messages: dict[int, list] = {}
    for message in db.session.scalars(sa.select(Message).where(sa.or_(
            Message.conversation_id.in_([c.id for c in conversations]), Message.author_id.in_(ids)))
            .order_by(Message.id)):
        messages.setdefault(message.conversation_id, []).append(serialize_message(message))
    person = author.person
    return {
        "exported_at": timestamp(utcnow()),
        "person": {"id": person.id, "name": person.name, "fields": person.fields or {}} if person else None,
        "authors": [serialize_author(a) for a in authors],
        "notes": [serialize_author_note(n) for n in db.session.scalars(
            sa.select(AuthorNote).where(AuthorNote.author_id.in_(ids)).order_by(AuthorNote.id))],
        "links": [serialize_person_link(link) for link in db.session.scalars(sa.select(PersonLink).where(
            sa.or_(PersonLink.author_id.in_(ids), PersonLink.other_author_id.in_(ids))))],
        "conversations": [{**serialize_conversation(c), "messages": messages.get(c.id, [])} for c in conversations],
    }


def erase_person(author: Author, agent: Agent) -> dict:
    """Erase the author's person everywhere (see the module docstring); returns what was touched, audited."""
    ids = author_ids_of(author)
    person_id = author.person_id
    conversation_ids = list(db.session.scalars(sa.select(Conversation.id).where(Conversation.author_id.in_(ids))))
    note_ids = list(db.session.scalars(sa.select(AuthorNote.id).where(AuthorNote.author_id.in_(ids))))
    link_ids = list(db.session.scalars(sa.select(PersonLink.id).where(
        sa.or_(PersonLink.author_id.in_(ids), PersonLink.other_author_id.in_(ids)))))
    now = utcnow()
    messages = db.session.execute(sa.update(Message).where(sa.or_(
        Message.conversation_id.in_(conversation_ids), Message.author_id.in_(ids))).values(**REDACTED)).rowcount
    db.session.execute(sa.update(Message).where(Message.author_id.in_(ids), Message.hidden_at.is_(None))
                       .values(hidden_at=now))
    db.session.execute(sa.update(Conversation).where(Conversation.id.in_(conversation_ids))
                       .values(subject="", explanation=None))
    db.session.execute(sa.delete(AuthorNote).where(AuthorNote.id.in_(note_ids)))
    db.session.execute(sa.delete(PersonLink).where(PersonLink.id.in_(link_ids)))
    for author_id in ids:
        db.session.execute(sa.update(Author).where(Author.id == author_id).values(
            handle=f"erased-{author_id}", name="", email=None, profile_url=None, avatar_url=None, tags=[],
            followers=0, verified=False, trust_level=None, external_id=f"erased-{author_id}", updated_at=now))
    if person_id is not None:
        db.session.execute(sa.update(Person).where(Person.id == person_id).values(name="", fields={}, updated_at=now))
    targets = [("author", ids), ("author_note", note_ids), ("person_link", link_ids),
               ("person", [person_id] if person_id else [])]
    for kind, target_ids in targets:
        if target_ids:
            db.session.execute(sa.update(AuditEntry).where(AuditEntry.target_type == kind,
                                                           AuditEntry.target_id.in_(target_ids))
                               .values(before=None, after={"erased": True}))
    touched = {"authors": len(ids), "conversations": len(conversation_ids), "messages": messages,
               "notes": len(note_ids), "links": len(link_ids)}
    audit.record(agent, "person.erase", "person" if person_id else "author", person_id or author.id, after=touched)
    db.session.commit()
    return touched


def check_retention(days, mode) -> tuple[int, str]:
    """Validate a retention request: whole days of at least 1, and a mode of RETENTION_MODES."""
    if isinstance(days, float) and days.is_integer():
        days = int(days)  # 30.0 is the whole number JSON Schema says it is
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 36_500:
        raise ValidationError("days: a whole number from 1 to 36500", code="invalid_field")
    if mode not in RETENTION_MODES:
        raise ValidationError(f"mode: one of {', '.join(RETENTION_MODES)}", code="invalid_field")
    return days, mode


def apply_retention(days: int, mode: str, progress=None) -> dict:
    """Redact (or delete the messages of) conversations closed (resolved or spam) more than `days` days ago.

    Read by the (status, updated_at) index, a batch of RETENTION_BATCH conversations per transaction;
    idempotent, so a retried job redoes nothing harmful.

    Args:
        days: how long closed conversations are kept whole.
        mode: "redact" empties their messages' words (the rows, counts and SLA outcomes stay); "delete"
            removes their messages (the conversation rows stay, for reports).
        progress: called with (done, total) after each batch.

    Returns:
        {"conversations": how many were handled, "messages": how many messages were redacted or deleted}.
    """
    days, mode = check_retention(days, mode)
    cutoff = utcnow() - timedelta(days=days)
    closed = [Conversation.status.in_(("resolved", "spam")), Conversation.updated_at < cutoff]
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Conversation).where(*closed))
    done = messages = 0
    last = 0
    while True:
        batch = list(db.session.scalars(sa.select(Conversation.id).where(*closed, Conversation.id > last)
                                        .order_by(Conversation.id).limit(RETENTION_BATCH)))
        if not batch:
            break
        owned = Message.conversation_id.in_(batch)
        if mode == "delete":
            messages += db.session.execute(sa.delete(Message).where(owned)).rowcount
        else:
            messages += db.session.execute(sa.update(Message).where(
                owned, sa.or_(Message.text != "", Message.subject != "", Message.raw.is_not(None)))
                .values(**REDACTED)).rowcount
        db.session.execute(sa.update(Conversation).where(Conversation.id.in_(batch)).values(subject=""))
        db.session.commit()
        done, last = done + len(batch), batch[-1]
        if progress is not None:
            progress(done, total)
    audit.record(None, "retention.apply", "retention", None,
                 after={"days": days, "mode": mode, "conversations": done, "messages": messages})
    db.session.commit()
    return {"conversations": done, "messages": messages}
