"""Incidents (known issues): opened by a volume spike or by a supervisor, joined by matching posts while open."""

from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from routing.spikes import BUCKET_MINUTES, Spike, SpikeSettings, detect_many, history_buckets, matches_phrase
from workspace.errors import NotFound, ValidationError
from workspace.extensions import db
from workspace.live import signals
from workspace.live.changes import announce
from workspace.live.publish import publish
from workspace.live.rooms import dashboard_room
from workspace.models import (
    ACTIVE_STATUSES,
    INCIDENT_STATUSES,
    MATCH_KINDS,
    Agent,
    Conversation,
    Incident,
    Macro,
    Queue,
    incident_conversations,
    is_id,
    utcnow,
)
from workspace.serializers import serialize_incident
from workspace.services import audit
from workspace.services.conversations import threads
from workspace.services.supervision import volume

MAX_TITLE_CHARS = 200
MAX_MATCH_CHARS = 120
# Conversations a supervisor can add or remove in one request.
MAX_IDS_PER_REQUEST = 1_000
# A spike that has an incident already (open, or resolved this recently) opens no second one.
COOLDOWN = timedelta(hours=1)
# A spike's incident takes in at most this many of the conversations already in its window.
MAX_SPIKE_CONVERSATIONS = 5_000


def find(incident_id: int) -> Incident:
    """Return the incident or raise NotFound."""
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        raise NotFound("no such incident")
    return incident


def list_incidents(status: str | None = None, limit: int = 100) -> list[Incident]:
    """Incidents newest first, optionally only open or resolved ones."""
    query = sa.select(Incident).order_by(Incident.id.desc()).limit(limit)
    if status is not None:
        if status not in INCIDENT_STATUSES:
            raise ValidationError(f"status: must be one of {', '.join(INCIDENT_STATUSES)}", code="invalid_field")
        query = query.where(Incident.status == status)
    return list(db.session.scalars(query))


def conversation_counts(incident_ids: list[int]) -> dict[int, dict]:
    """How many conversations each incident holds, and how many of them are still active."""
    counts = {incident_id: {"conversations": 0, "active": 0} for incident_id in incident_ids}
    rows = db.session.execute(
        sa.select(incident_conversations.c.incident_id, sa.func.count(),
                  sa.func.count(sa.case((Conversation.status.in_(ACTIVE_STATUSES), 1))))
        .join(Conversation, Conversation.id == incident_conversations.c.conversation_id)
        .where(incident_conversations.c.incident_id.in_(incident_ids))
        .group_by(incident_conversations.c.incident_id))
    for incident_id, total, active in rows:
        counts[incident_id] = {"conversations": total, "active": active}
    return counts


def incident_conversation_ids(incident: Incident, *, active_only: bool = True) -> list[int]:
    """The ids of an incident's conversations (by default those still needing work).

    This is the hook for "reply to all with one macro": the bulk machinery
    applies a macro to exactly these ids.
    """
    query = (sa.select(incident_conversations.c.conversation_id)
             .where(incident_conversations.c.incident_id == incident.id)
             .order_by(incident_conversations.c.conversation_id))
    if active_only:
        query = query.join(Conversation, Conversation.id == incident_conversations.c.conversation_id).where(
            Conversation.status.in_(ACTIVE_STATUSES))
    return list(db.session.scalars(query))


def create_incident(data, agent: Agent) -> Incident:
    """Open an incident by hand: a title, optionally what new posts it takes in and conversations to add."""
    data = _body(data)
    if "title" not in data:
        raise ValidationError("title: is required", code="invalid_field")
    incident = Incident(title=_title(data["title"]), status="open", created_by_id=agent.id, created_at=utcnow(),
                        updated_at=utcnow())
    _set_match(incident, data)
    _set_answer(incident, data)
    db.session.add(incident)
    db.session.flush()
    added = _add(incident, _ids(data.get("add_conversations", [])))
    audit.record(agent, "incident.create", "incident", incident.id, after=_state(incident, added=added))
    db.session.commit()
    _announce("incident.updated", incident)
    announce(signals.incidents_opened, incident.id)
    return incident


def update_incident(incident: Incident, data, agent: Agent) -> Incident:
    """Change the title or match, add or remove conversations, or re-open a resolved incident."""
    data = _body(data)
    before = _state(incident)
    if "title" in data:
        incident.title = _title(data["title"])
    if "match" in data:
        _set_match(incident, data)
    _set_answer(incident, data)
    if "status" in data:
        if data["status"] != "open":
            raise ValidationError("status: only \"open\" here (resolve with POST .../resolve)", code="invalid_field")
        incident.status, incident.resolved_at = "open", None
    added = _add(incident, _ids(data.get("add_conversations", [])))
    removed = _ids(data.get("remove_conversations", []))
    if removed:
        db.session.execute(sa.delete(incident_conversations).where(
            incident_conversations.c.incident_id == incident.id,
            incident_conversations.c.conversation_id.in_(removed)))
    incident.updated_at = utcnow()
    audit.record(agent, "incident.update", "incident", incident.id, before=before,
                 after=_state(incident, added=added, removed=len(removed)))
    db.session.commit()
    _announce("incident.updated", incident)
    return incident


def resolve_incident(incident: Incident, agent: Agent, *, resolve_conversations: bool) -> Incident:
    """End an incident, audited and announced (responses.bulk.resolve_incident also resolves its conversations)."""
    before = _state(incident)
    incident.status, incident.resolved_at, incident.updated_at = "resolved", utcnow(), utcnow()
    audit.record(agent, "incident.resolve", "incident", incident.id, before=before,
                 after={**_state(incident), "resolve_conversations": resolve_conversations})
    db.session.commit()
    _announce("incident.updated", incident)
    return incident


def join_open_incidents(conversations: list[Conversation], texts: list[str]) -> int:
    """Add freshly routed conversations to every open incident they match (in the caller's transaction).

    One query for the open incidents and one insert for the whole batch.

    Returns:
        How many memberships were added.
    """
    open_incidents = db.session.execute(
        sa.select(Incident.id, Incident.match_kind, Incident.match_value)
        .where(Incident.status == "open", Incident.match_kind.is_not(None))).all()
    if not open_incidents:
        return 0
    pairs = [(incident_id, conversation.id)
             for conversation, text in zip(conversations, texts, strict=True) if conversation.status != "spam"
             for incident_id, kind, value in open_incidents if _matches(conversation, text, kind, value)]
    _insert_links(pairs)
    return len(pairs)


def _matches(conversation: Conversation, text: str, kind: str, value: str) -> bool:
    if kind == "queue":
        return conversation.queue is not None and conversation.queue.slug == value
    if kind == "tag":
        return value in (conversation.tags or ())
    return matches_phrase(text, value)


def _insert_links(pairs: list[tuple[int, int]]) -> None:
    """Insert incident memberships, skipping any that exist already."""
    if not pairs:
        return
    now = utcnow()
    db.session.execute(volume.dialect_insert(incident_conversations).on_conflict_do_nothing(),
                       [{"incident_id": i, "conversation_id": c, "added_at": now} for i, c in sorted(set(pairs))])


def detect_spikes(settings: SpikeSettings | None = None) -> list[Incident]:
    """Look for volume spikes per phrase, tag and queue, and open an incident for each new one.

    Each new incident takes in the matching conversations of the spike's
    window and is announced live (`incident.detected`) to supervisors. One
    outage lifts its phrase, its tags and its queue together: the most
    specific spike (phrase, then tag, then queue) opens the incident, and a
    spike whose conversations are mostly in an open incident already opens none.

    Args:
        settings: thresholds; by default those configured.

    Returns:
        The incidents opened.
    """
    settings = settings or spike_settings()
    now = utcnow()
    end = volume.bucket_of(now)
    start = end - timedelta(minutes=BUCKET_MINUTES * (history_buckets(settings) - 1))
    window_start = end - timedelta(minutes=BUCKET_MINUTES * (settings.window - 1))
    found = [("phrase", spike) for spike in detect_many(
        volume.phrase_series(start, end, window_start, settings.min_count), settings)]
    found += [("tag", spike) for spike in detect_many(volume.series("tag", start, end), settings)]
    found += [("queue", spike) for spike in detect_many(volume.series("queue", start, end), settings)]
    opened = []
    for (kind, spike), matching in zip(found, _window_matches(found, window_start), strict=True):
        if _recently_known(kind, spike.key, now):
            continue
        if matching and 2 * len(_in_open_incidents(matching)) >= len(matching):
            continue
        minutes = settings.window * BUCKET_MINUTES
        incident = Incident(
            title=f"Spike in {kind} \u201c{spike.key}\u201d: {spike.observed} posts in {minutes} min "
                  f"(about {spike.expected:.0f} expected)"[:MAX_TITLE_CHARS],
            status="open", match_kind=kind, match_value=spike.key[:MAX_MATCH_CHARS], created_at=now, updated_at=now,
            spike={"observed": spike.observed, "expected": spike.expected, "z": spike.z,
                   "window_start": window_start.isoformat(), "window_minutes": minutes})
        db.session.add(incident)
        db.session.flush()
        _insert_links([(incident.id, c) for c in matching])
        audit.record(None, "incident.detect", "incident", incident.id, after=_state(incident))
        db.session.commit()
        _announce("incident.detected", incident)
        announce(signals.incidents_opened, incident.id)
        opened.append(incident)
    return opened


def _in_open_incidents(conversation_ids: list[int]) -> set[int]:
    """Which of these conversations some open incident holds already."""
    return set(db.session.scalars(
        sa.select(incident_conversations.c.conversation_id)
        .join(Incident, Incident.id == incident_conversations.c.incident_id)
        .where(Incident.status == "open", incident_conversations.c.conversation_id.in_(conversation_ids))))


def _recently_known(kind: str, value: str, now) -> bool:
    """An incident on the same thing is open, or was resolved within the cooldown."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Incident).where(
        Incident.match_kind == kind, Incident.match_value == value[:MAX_MATCH_CHARS],
        sa.or_(Incident.status == "open", Incident.resolved_at >= now - COOLDOWN))) > 0


def _window_matches(found: list[tuple[str, Spike]], since) -> list[list[int]]:
    """For each spike, the active conversations routed since the window began that match it.

    One read of the window's conversations (and their latest posts, for
    phrases) serves every spike, before any incident is committed.
    """
    if not found:
        return []
    candidates = db.session.scalars(
        sa.select(Conversation).where(Conversation.status.in_(ACTIVE_STATUSES), Conversation.updated_at >= since)
        .options(so.joinedload(Conversation.queue)).order_by(Conversation.id.desc()).limit(MAX_SPIKE_CONVERSATIONS)).all()
    texts: dict[int, str] = {}
    if any(kind == "phrase" for kind, _ in found):
        latest = threads.latest_inbound([c.id for c in candidates])
        by_message = threads.message_texts(list(latest.values()))
        texts = {conversation_id: by_message[message_id] for conversation_id, message_id in latest.items()}

    def matching(kind: str, value: str) -> list[int]:
        if kind == "phrase":
            return [c.id for c in candidates if c.id in texts and matches_phrase(texts[c.id], value)]
        return [c.id for c in candidates if _matches(c, "", kind, value)]

    return [matching(kind, spike.key) for kind, spike in found]


def _announce(event: str, incident: Incident) -> None:
    """Tell the supervisors' dashboards (after commit)."""
    counts = conversation_counts([incident.id])[incident.id]
    publish(event, serialize_incident(incident, counts), dashboard_room())
    db.session.rollback()


def _add(incident: Incident, conversation_ids: list[int]) -> int:
    """Add existing conversations to an incident; unknown ids are refused, so nothing is half-added."""
    if not conversation_ids:
        return 0
    known = set(db.session.scalars(sa.select(Conversation.id).where(Conversation.id.in_(conversation_ids))))
    missing = sorted(set(conversation_ids) - known)
    if missing:
        raise NotFound(f"add_conversations: no conversation {missing[0]}")
    _insert_links([(incident.id, c) for c in conversation_ids])
    return len(set(conversation_ids))


def _set_match(incident: Incident, data: dict) -> None:
    """Validate and set what new posts the incident takes in: {"kind": ..., "value": ...} or null."""
    match = data.get("match")
    if match is None:
        incident.match_kind = incident.match_value = None
        return
    if not isinstance(match, dict) or match.get("kind") not in MATCH_KINDS:
        raise ValidationError(f"match: an object with kind one of {', '.join(MATCH_KINDS)} and a value, or null",
                              code="invalid_field")
    value = match.get("value")
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_MATCH_CHARS or "\x00" in value:
        raise ValidationError(f"match.value: a text of 1 to {MAX_MATCH_CHARS} characters", code="invalid_field")
    value = value.strip() if match["kind"] != "tag" else value.strip().lower()
    if match["kind"] == "queue" and db.session.scalar(sa.select(Queue.id).where(Queue.slug == value)) is None:
        raise NotFound(f"match.value: no queue named {value!r}")
    incident.match_kind, incident.match_value = match["kind"], value


def _set_answer(incident: Incident, data: dict) -> None:
    """Set the macro answering the incident (`answer_macro`: a macro id, or null for none) when given."""
    if "answer_macro" not in data:
        return
    macro_id = data["answer_macro"]
    if macro_id is not None and (not is_id(macro_id) or db.session.get(Macro, macro_id) is None):
        raise NotFound(f"answer_macro: no macro {macro_id!r}")
    incident.answer_macro_id = macro_id


def _body(data) -> dict:
    if not isinstance(data, dict):
        raise ValidationError("body: must be a JSON object", code="invalid_body")
    return data


def _title(title) -> str:
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE_CHARS or "\x00" in title:
        raise ValidationError(f"title: a text of 1 to {MAX_TITLE_CHARS} characters", code="invalid_field")
    return title.strip()


def _ids(ids) -> list[int]:
    if (not isinstance(ids, list) or len(ids) > MAX_IDS_PER_REQUEST
            or not all(is_id(i) for i in ids)):
        raise ValidationError(f"conversation ids: a list of at most {MAX_IDS_PER_REQUEST} integers",
                              code="invalid_field")
    return ids


def _state(incident: Incident, **extra) -> dict:
    return {"title": incident.title, "status": incident.status, "match_kind": incident.match_kind,
            "match_value": incident.match_value, "answer_macro_id": incident.answer_macro_id, **extra}


def spike_settings() -> SpikeSettings:
    """The detector's thresholds, from the app's configuration."""
    return SpikeSettings(min_count=current_app.config["SPIKE_MIN_COUNT"],
                         z_threshold=current_app.config["SPIKE_Z_THRESHOLD"],
                         min_ratio=current_app.config["SPIKE_MIN_RATIO"])
