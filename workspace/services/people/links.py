"""Links between authors: found with their evidence, confirmed by an agent (joining their people), undone.

Confirming a link joins the two authors' people: a lone author joins the other's
person (or both get a new one), and two people become one, the second folded into
the first (`merged_into_id`). What moved is kept on the link (`merge`), so an undo
puts exactly that back, as long as nothing merged later depends on it.
"""

from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from workspace.errors import NotFound, SwitchboardError, ValidationError
from workspace.extensions import db
from workspace.models import Agent, Author, Person, PersonLink, is_id, utcnow
from workspace.services import audit
from workspace.services.people.profiles import person_for

# Profile addresses whose first path part is the handle (x.com/maya); elsewhere /u/maya, /users/maya or the last part.
HANDLE_FIRST_HOSTS = ("x.com", "twitter.com", "instagram.com", "github.com", "facebook.com", "tiktok.com")
USER_SEGMENTS = ("u", "user", "users", "profile", "members")


class LinkConflict(SwitchboardError):
    """The link is not in a state that allows this (already decided, or a later merge depends on it)."""

    status = 409
    code = "link_conflict"


def _variants(handle: str) -> list[str]:
    handle = handle.lstrip("@")
    return list({handle, handle.lower()})


def handle_in_url(url: str | None) -> str | None:
    """The handle a profile address names (https://x.com/maya -> maya, https://forum/u/maya -> maya), if any."""
    if not url:
        return None
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    host = (parts.hostname or "").removeprefix("www.").removeprefix("mobile.")
    if not segments:
        return None
    if host in HANDLE_FIRST_HOSTS:
        return segments[0].lstrip("@")
    for index, segment in enumerate(segments[:-1]):
        if segment.lower() in USER_SEGMENTS:
            return segments[index + 1].lstrip("@")
    return segments[-1].lstrip("@") or None


def evidence_for(author: Author) -> dict[int, list[dict]]:
    """The other authors that may be this one's person, each with what points to it (indexed lookups only).

    Returns:
        Evidence lists by the other author's id.
    """
    found: dict[int, list[dict]] = {}

    def add(others, kind: str, detail: str) -> None:
        for other in others:
            if other.id != author.id and (author.person_id is None or other.person_id != author.person_id):
                found.setdefault(other.id, []).append({"kind": kind, "detail": detail})

    if author.email:
        add(db.session.scalars(sa.select(Author).where(Author.email.in_(_variants(author.email)))),
            "email", f"both give the email {author.email}")
    named = handle_in_url(author.profile_url)
    if named:
        add(db.session.scalars(sa.select(Author).where(Author.handle.in_(_variants(named)),
                                                       Author.channel_id != author.channel_id)),
            "profile_url", f"@{author.handle}'s profile address {author.profile_url} names @{named}")
    if author.handle and author.name:
        same = [other for other in db.session.scalars(sa.select(Author).where(
                    Author.handle.in_(_variants(author.handle)), Author.channel_id != author.channel_id))
                if other.name.strip().lower() == author.name.strip().lower()]
        with_picture = [o for o in same if o.avatar_url and o.avatar_url == author.avatar_url]
        add(with_picture, "name_handle", f"the same name, picture and handle (@{author.handle})")
        add([o for o in same if o not in with_picture], "name_handle",
            f"the same name ({author.name}) and handle (@{author.handle})")
    return found


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def _link(a: int, b: int) -> PersonLink | None:
    low, high = _pair(a, b)
    return db.session.scalar(sa.select(PersonLink).where(PersonLink.author_id == low,
                                                         PersonLink.other_author_id == high))


def propose_for(author_ids: list[int]) -> int:
    """Look for the people these authors may be and propose each new pair (decided pairs stay decided).

    Returns:
        How many links were proposed or given new evidence.
    """
    changed = 0
    for author in db.session.scalars(sa.select(Author).where(Author.id.in_(author_ids))):
        for other_id, evidence in evidence_for(author).items():
            link = _link(author.id, other_id)
            if link is None:
                low, high = _pair(author.id, other_id)
                db.session.add(PersonLink(author_id=low, other_author_id=high, evidence=evidence, status="proposed"))
                changed += 1
            elif link.status == "proposed":
                kinds = {e["kind"] for e in link.evidence}
                new = [e for e in evidence if e["kind"] not in kinds]
                if new:
                    link.evidence = [*link.evidence, *new]
                    changed += 1
        db.session.flush()
    db.session.commit()
    return changed


def get_link(link_id: int) -> PersonLink:
    """Return a link or raise NotFound."""
    link = db.session.get(PersonLink, link_id) if is_id(link_id) else None
    if link is None:
        raise NotFound(f"no link {link_id}")
    return link


def links_of(author_ids: list[int]) -> list[PersonLink]:
    """The proposed and confirmed links touching these authors, newest first."""
    return list(db.session.scalars(sa.select(PersonLink).where(
        sa.or_(PersonLink.author_id.in_(author_ids), PersonLink.other_author_id.in_(author_ids)),
        PersonLink.status.in_(("proposed", "confirmed"))).order_by(PersonLink.id.desc())))


def link_authors(author: Author, other: Author, agent: Agent, *, confirm: bool) -> PersonLink:
    """An agent's own link between two authors (evidence "agent"), confirmed at once if they say so."""
    if author.id == other.id:
        raise ValidationError("other_author_id: an author is already themselves", code="invalid_field")
    link = _link(author.id, other.id)
    if link is not None and link.status == "confirmed":
        raise LinkConflict(f"link {link.id} already joins these authors")
    detail = {"kind": "agent", "detail": f"linked by {agent.name}"}
    if link is None:
        low, high = _pair(author.id, other.id)
        link = PersonLink(author_id=low, other_author_id=high, evidence=[detail], proposed_by_id=agent.id)
        db.session.add(link)
    else:
        link.evidence, link.status, link.proposed_by_id = [*link.evidence, detail], "proposed", agent.id
    try:
        db.session.flush()
    except IntegrityError:  # another agent linked the same pair just now
        db.session.rollback()
        raise LinkConflict("these authors were linked just now; reload")
    audit.record(agent, "person.link.propose", "person_link", link.id, after={"evidence": link.evidence})
    db.session.commit()
    return confirm_link(link, agent) if confirm else link


def _claim(link: PersonLink, was: str, becomes: str) -> None:
    """Move a link from one status to the next, or fail when someone else moved it first."""
    moved = db.session.execute(sa.update(PersonLink).where(PersonLink.id == link.id, PersonLink.status == was)
                               .values(status=becomes)).rowcount
    if moved != 1:
        db.session.rollback()
        raise LinkConflict(f"link {link.id} is no longer {was}")
    db.session.refresh(link)


def dismiss_link(link: PersonLink, agent: Agent) -> PersonLink:
    """Say two authors are not one person: the proposal is closed and never proposed again."""
    _claim(link, "proposed", "dismissed")
    link.decided_by_id, link.decided_at = agent.id, utcnow()
    audit.record(agent, "person.link.dismiss", "person_link", link.id, before={"status": "proposed"},
                 after={"status": "dismissed"})
    db.session.commit()
    return link


def confirm_link(link: PersonLink, agent: Agent) -> PersonLink:
    """Join the two authors' people into one, remembering what moved so the merge can be undone."""
    _claim(link, "proposed", "confirmed")
    first, second = link.author, link.other_author
    if first.person_id is None and second.person_id is not None:
        first, second = second, first
    created = first.person_id is None
    into = person_for(first)
    merge = {"person_id": into.id, "created": created, "from_person_id": None,
             "moved_author_ids": [first.id] if created else [], "gained_fields": []}
    if second.person_id is None:
        second.person_id = into.id
        merge["moved_author_ids"].append(second.id)
    elif second.person_id != into.id:  # two people become one: the second folds into the first
        absorbed = second.person
        gained = {k: v for k, v in (absorbed.fields or {}).items() if k not in (into.fields or {})}
        merge.update(from_person_id=absorbed.id, gained_fields=sorted(gained),
                     moved_author_ids=[a.id for a in absorbed.authors])
        db.session.execute(sa.update(Author).where(Author.person_id == absorbed.id).values(person_id=into.id))
        into.fields = {**(into.fields or {}), **gained}
        absorbed.merged_into_id = into.id
    into.updated_at = utcnow()
    link.merge, link.decided_by_id, link.decided_at = merge, agent.id, utcnow()
    audit.record(agent, "person.merge", "person_link", link.id, before={"status": "proposed"},
                 after={"status": "confirmed", **merge})
    db.session.commit()
    db.session.expire_all()
    return link


def undo_link(link: PersonLink, agent: Agent) -> PersonLink:
    """Take a confirmed link back: the authors it moved return where they were, with the fields they brought."""
    merge = link.merge or {}
    into = db.session.get(Person, merge.get("person_id"))
    moved = merge.get("moved_author_ids") or []
    if into is None or into.merged_into_id is not None or db.session.scalar(
            sa.select(sa.func.count()).select_from(Author).where(Author.id.in_(moved),
                                                                  Author.person_id.is_distinct_from(into.id))):
        raise LinkConflict("a later merge moved these authors again; undo that one first")
    _claim(link, "confirmed", "undone")
    back_to = merge.get("from_person_id")
    if moved:
        db.session.execute(sa.update(Author).where(Author.id.in_(moved)).values(person_id=back_to))
    if back_to is not None:
        db.session.get(Person, back_to).merged_into_id = None
    into.fields = {k: v for k, v in (into.fields or {}).items() if k not in merge.get("gained_fields", [])}
    into.updated_at = utcnow()
    db.session.flush()
    if merge.get("created") and not db.session.scalar(
            sa.select(sa.func.count()).select_from(Author).where(Author.person_id == into.id)):
        db.session.delete(into)  # made by this link alone; its audit entries keep what it held
    link.decided_by_id, link.decided_at = agent.id, utcnow()
    audit.record(agent, "person.merge.undo", "person_link", link.id, before={"status": "confirmed", **merge},
                 after={"status": "undone"})
    db.session.commit()
    db.session.expire_all()
    return link

