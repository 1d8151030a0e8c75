"""What a person is made of: their authors, the facts routing reads from all of them, and their custom fields."""

import json
import re
from dataclasses import dataclass, field

import sqlalchemy as sa

from workspace.errors import ValidationError
from workspace.extensions import db
from workspace.models import Agent, Author, Person, utcnow
from workspace.services import audit

MAX_FIELDS = 50
MAX_FIELD_CHARS = 500
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True, slots=True)
class Facts:
    """What routing and priority see of a customer: the whole person's, when the author is one of a person's."""

    followers: int = 0
    verified: bool = False
    tags: frozenset[str] = frozenset()
    fields: dict = field(default_factory=dict)

    def field_pairs(self) -> tuple[tuple[str, str], ...]:
        """The custom fields as routing takes them: (name, value as text), numbers and booleans as JSON writes them."""
        return tuple(sorted((name, value if isinstance(value, str) else json.dumps(value))
                            for name, value in self.fields.items()))


def author_ids_of(author: Author) -> list[int]:
    """The ids of every author of this author's person (just its own when it has none)."""
    if author.person_id is None:
        return [author.id]
    return list(db.session.scalars(sa.select(Author.id).where(Author.person_id == author.person_id)
                                   .order_by(Author.id)))


def facts_for(authors: list[Author]) -> dict[int, Facts]:
    """Each author's facts as its person's: the highest influence, verified anywhere, the union of tags, fields.

    One query for the people's authors and one for their fields, whatever the number of authors.

    Returns:
        Facts by author id.
    """
    person_ids = {a.person_id for a in authors if a.person_id is not None}
    members: dict[int, list] = {}
    fields: dict[int, dict] = {}
    if person_ids:
        for row in db.session.execute(sa.select(Author.person_id, Author.followers, Author.verified, Author.tags)
                                      .where(Author.person_id.in_(person_ids))):
            members.setdefault(row.person_id, []).append(row)
        fields = dict(db.session.execute(sa.select(Person.id, Person.fields).where(Person.id.in_(person_ids))).all())
    facts = {}
    for author in authors:
        rows = members.get(author.person_id) or [author]
        facts[author.id] = Facts(followers=max(r.followers or 0 for r in rows), verified=any(r.verified for r in rows),
                                 tags=frozenset(t for r in rows for t in (r.tags or ())),
                                 fields=dict(fields.get(author.person_id) or {}))
    return facts


def clean_fields(values) -> dict:
    """Validate custom field changes: names to short strings, numbers, booleans, or null (to remove one)."""
    if not isinstance(values, dict):
        raise ValidationError("fields: must be an object of names to values", code="invalid_field")
    for name, value in values.items():
        if not FIELD_NAME.match(name):
            raise ValidationError(f"fields: {name[:50]!r} is not a field name (a-z, 0-9, _; up to 40)",
                                  code="invalid_field")
        if isinstance(value, str):
            if len(value) > MAX_FIELD_CHARS or "\x00" in value:
                raise ValidationError(f"fields.{name}: at most {MAX_FIELD_CHARS} characters", code="invalid_field")
        elif value is not None and not isinstance(value, (bool, int, float)):
            raise ValidationError(f"fields.{name}: a string, number, boolean or null", code="invalid_field")
    return values


def person_for(author: Author) -> Person:
    """The author's person, made for it (alone) when it has none yet."""
    if author.person is None:
        author.person = Person(name=author.name or author.handle, fields={})
        db.session.flush()
    return author.person


def apply_fields(person: Person, changes: dict) -> dict:
    """Merge field changes into a person (null removes a field); returns the fields before. Does not commit."""
    before = dict(person.fields or {})
    after = {**before, **changes}
    after = {name: value for name, value in after.items() if value is not None}
    if len(after) > MAX_FIELDS:
        raise ValidationError(f"fields: at most {MAX_FIELDS} per person", code="invalid_field")
    person.fields = after
    person.updated_at = utcnow()
    return before


def set_fields(author: Author, changes, agent: Agent | None) -> Person:
    """Change the custom fields of the author's person (made for it if need be), audited."""
    changes = clean_fields(changes)
    person = person_for(author)
    before = apply_fields(person, changes)
    if before != person.fields:
        audit.record(agent, "person.fields", "person", person.id, before={"fields": before},
                     after={"fields": person.fields})
    db.session.commit()
    return person


MAX_IMPORT_ROWS = 1_000
MATCH_KEYS = ("external_id", "handle", "email")


def _matching_authors(row: dict, channels: dict[str, int]) -> list[Author]:
    """The authors one import row names: by channel and external id or handle, or by email on any channel."""
    if "email" in row:
        return list(db.session.scalars(sa.select(Author).where(Author.email == row["email"])))
    key = "external_id" if "external_id" in row else "handle"
    channel_id = channels.get(row.get("channel"))
    if channel_id is None:
        return []
    return list(db.session.scalars(sa.select(Author).where(Author.channel_id == channel_id,
                                                           getattr(Author, key) == row[key])))


def import_fields(rows, agent: Agent, channels: dict[str, int]) -> dict:
    """Set custom fields from a list of rows (a CRM export), all or nothing, audited once.

    Args:
        rows: [{"channel": slug, "external_id" | "handle": ..., "fields": {...}}, or {"email": ..., "fields"}].
        agent: who imports.
        channels: channel ids by slug.

    Returns:
        {"matched": how many authors' people were changed, "unmatched": the indexes of rows that named nobody}.
    """
    if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_IMPORT_ROWS:
        raise ValidationError(f"people: a list of 1 to {MAX_IMPORT_ROWS} rows", code="invalid_field")
    for index, row in enumerate(rows):
        if not isinstance(row, dict) or sum(key in row for key in MATCH_KEYS) != 1:
            raise ValidationError(f"people[{index}]: one of {', '.join(MATCH_KEYS)} names the customer",
                                  code="invalid_field")
        clean_fields(row.get("fields"))
    matched, unmatched, people = 0, [], {}
    for index, row in enumerate(rows):
        authors = _matching_authors(row, channels)
        if not authors:
            unmatched.append(index)
        for author in authors:
            person = person_for(author)
            people.setdefault(person.id, dict(person.fields or {}))
            apply_fields(person, row["fields"])
            matched += 1
    audit.record(agent, "person.import", "person", None, before={"fields": people},
                 after={"rows": len(rows), "matched": matched})
    db.session.commit()
    return {"matched": matched, "unmatched": unmatched}
