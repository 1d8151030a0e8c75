"""Saved views: an agent's or a team's named filter sets over conversations, with their counts.

A personal view is its owner's alone; a team view is shared with the agents of
one queue (its team), and only they (and its owner) see it. Filters read what
the viewer may see: an agent's view never counts or lists a conversation of a
queue they are not in, and `assignee: "me"` means whoever looks.
"""

import sqlalchemy as sa

from workspace.errors import Forbidden, NotFound, ValidationError
from workspace.extensions import db
from workspace.models import STATUSES, Agent, Channel, Conversation, Priority, Queue, SavedView, queue_members, utcnow
from workspace.services import audit
from workspace.services.conversations.queues import page_in_order, visible_queue_ids
from workspace.services.conversations.search import matching_ids

FILTERS = ("queue", "status", "tags", "channel", "assignee", "priority", "text")
FIELDS = ("name", "team_queue", "filters")
MAX_NAME_CHARS = 80
MAX_TAGS = 5
MAX_TEXT_CHARS = 200
# Views one agent may own (each is counted whenever the sidebar is drawn).
MAX_VIEWS = 50
# A count stops here ("1000+"): the sidebar needs to know "a lot", not how many exactly.
COUNT_CAP = 1000
# A text filter looks at this many best search matches.
TEXT_MATCHES = 200


def _fail(message: str) -> None:
    raise ValidationError(message, code="invalid_field")


def _slug(model, value, field: str) -> int | None:
    """The id of the queue or channel a field names by slug (None for none)."""
    if value in (None, ""):
        return None
    kind = model.__tablename__.rstrip("s")
    if not isinstance(value, str) or len(value) > 64:
        _fail(f"{field}: a {kind} slug")
    found = db.session.scalar(sa.select(model.id).where(model.slug == value))
    if found is None:
        _fail(f"{field}: no {kind} named {value!r}")
    return found


def clean_filters(data) -> dict:
    """Check a view's filters and return them as stored (unknown keys refused, empty ones dropped)."""
    if not isinstance(data, dict) or set(data) - set(FILTERS):
        _fail(f"filters: an object with any of {', '.join(FILTERS)}")
    cleaned = {"status": data.get("status") or "open"}
    if cleaned["status"] not in STATUSES:
        _fail(f"filters.status: one of {', '.join(STATUSES)}")
    for name, model in (("queue", Queue), ("channel", Channel)):
        if _slug(model, data.get(name), f"filters.{name}") is not None:
            cleaned[name] = data[name]
    tags = data.get("tags") or []
    if not isinstance(tags, list) or len(tags) > MAX_TAGS or not all(
            isinstance(tag, str) and 0 < len(tag.strip()) <= 64 and '"' not in tag for tag in tags):
        _fail(f"filters.tags: at most {MAX_TAGS} tags (each 1 to 64 characters, no quotes)")
    if tags:
        cleaned["tags"] = sorted({tag.strip().lower() for tag in tags})
    assignee = data.get("assignee")
    if assignee not in (None, "", "any"):
        if assignee not in ("me", "none") and not (isinstance(assignee, int) and not isinstance(assignee, bool)
                                                    and 0 < assignee < 2**31):
            _fail('filters.assignee: "me", "none", "any" or an agent id')
        cleaned["assignee"] = assignee
    if data.get("priority") not in (None, ""):
        if data["priority"] not in [p.label for p in Priority]:
            _fail(f"filters.priority: one of {', '.join(p.label for p in Priority)}")
        cleaned["priority"] = data["priority"]
    text = data.get("text") or ""
    if not isinstance(text, str) or len(text) > MAX_TEXT_CHARS or "\x00" in text or len(text.strip()) == 1:
        _fail(f"filters.text: 2 to {MAX_TEXT_CHARS} characters of search text")
    if text.strip():
        cleaned["text"] = text.strip()
    return cleaned


def _team_queue(agent: Agent, value) -> int | None:
    """The queue a team view is shared with: one the agent works (supervisors and admins: any)."""
    queue_id = _slug(Queue, value, "team_queue") if value not in (None, "") else None
    if queue_id is not None and queue_id not in visible_queue_ids(agent):
        _fail("team_queue: a queue you work")
    return queue_id


def visible_views(agent: Agent) -> list[SavedView]:
    """The views an agent sees: their own, and their teams' (the queues they are a member of), by name."""
    teams = sa.select(queue_members.c.queue_id).where(queue_members.c.agent_id == agent.id)
    return list(db.session.scalars(sa.select(SavedView).where(sa.or_(
        SavedView.owner_id == agent.id, SavedView.team_queue_id.in_(teams))).order_by(SavedView.name, SavedView.id)))


def get_view(view_id: int, agent: Agent) -> SavedView:
    """A view the agent sees (NotFound otherwise: another agent's view is not theirs to know of)."""
    view = db.session.get(SavedView, view_id)
    if view is None or (view.owner_id != agent.id and view.team_queue_id not in _member_of(agent)):
        raise NotFound(f"no view {view_id}")
    return view


def _member_of(agent: Agent) -> set[int]:
    return set(db.session.scalars(sa.select(queue_members.c.queue_id).where(queue_members.c.agent_id == agent.id)))


def _owned(view_id: int, agent: Agent) -> SavedView:
    view = get_view(view_id, agent)
    if view.owner_id != agent.id:
        raise Forbidden("only the view's owner may change or delete it")
    return view


def save_view(view_id: int | None, data, agent: Agent) -> SavedView:
    """Create (view_id None) or change one of the agent's views: its name, team and filters."""
    if not isinstance(data, dict) or set(data) - set(FIELDS):
        _fail(f"body: an object with any of {', '.join(FIELDS)}")
    view = None if view_id is None else _owned(view_id, agent)
    if view is None:
        owned = db.session.scalar(sa.select(sa.func.count()).where(SavedView.owner_id == agent.id))
        if owned >= MAX_VIEWS:
            _fail(f"you have {MAX_VIEWS} views: delete one first")
        view = SavedView(owner_id=agent.id, filters={"status": "open"})
        if "name" not in data:
            _fail("name: is required")
    before = None if view.id is None else _state(view)
    if "name" in data:
        name = data["name"]
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME_CHARS:
            _fail(f"name: 1 to {MAX_NAME_CHARS} characters")
        view.name = name.strip()
    if "team_queue" in data:
        view.team_queue_id = _team_queue(agent, data["team_queue"])
    if "filters" in data:
        view.filters = clean_filters(data["filters"])
    view.updated_at = utcnow()
    db.session.add(view)
    db.session.flush()
    audit.record(agent, "view.create" if before is None else "view.update", "view", view.id, before=before,
                 after=_state(view))
    db.session.commit()
    return view


def delete_view(view_id: int, agent: Agent) -> None:
    """Delete one of the agent's views."""
    view = _owned(view_id, agent)
    audit.record(agent, "view.delete", "view", view.id, before=_state(view))
    db.session.delete(view)
    db.session.commit()


def _state(view: SavedView) -> dict:
    return {"name": view.name, "team_queue_id": view.team_queue_id, "filters": view.filters}


def conditions(view: SavedView, agent: Agent) -> list:
    """The SQL conditions of a view's conversations as `agent` sees them (their queues only)."""
    filters = view.filters or {}
    queue_ids = visible_queue_ids(agent)
    if filters.get("queue"):
        queue_id = db.session.scalar(sa.select(Queue.id).where(Queue.slug == filters["queue"]))
        queue_ids = [queue_id] if queue_id in queue_ids else []
    where = [Conversation.queue_id.in_(queue_ids), Conversation.status == filters.get("status", "open")]
    assignee = filters.get("assignee")
    if assignee == "me":
        where.append(Conversation.assignee_id == agent.id)
    elif assignee == "none":
        where.append(Conversation.assignee_id.is_(None))
    elif isinstance(assignee, int):
        where.append(Conversation.assignee_id == assignee)
    for tag in filters.get("tags", ()):
        # Tags are a JSON list of strings; its text holds "tag" with the quotes (as the queue list's filter).
        where.append(sa.cast(Conversation.tags, sa.Text).contains(f'"{tag}"'))
    if filters.get("channel"):
        where.append(Conversation.channel.has(slug=filters["channel"]))
    if filters.get("priority"):
        where.append(Conversation.priority == Priority.parse(filters["priority"]))
    if filters.get("text"):
        where.append(Conversation.id.in_(matching_ids(agent, filters["text"], TEXT_MATCHES)))
    return where


def count(view: SavedView, agent: Agent) -> int:
    """How many conversations the view shows the agent, up to COUNT_CAP (read through the queue indexes)."""
    capped = sa.select(Conversation.id).where(*conditions(view, agent)).limit(COUNT_CAP).subquery()
    return db.session.scalar(sa.select(sa.func.count()).select_from(capped))


def conversations(view: SavedView, agent: Agent, *, limit: int, cursor: str | None):
    """One page of the view's conversations in work order, and the next cursor."""
    return page_in_order(sa.select(Conversation).where(*conditions(view, agent)), limit=limit, cursor=cursor)
