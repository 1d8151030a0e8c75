"""Macros: who may use and manage which, search ranked by match and use, preview, apply, import and export."""

import math

import sqlalchemy as sa

import macros as library
from macros import MacroError
from workspace.channels.registry import reply_length, reply_limit
from workspace.errors import Forbidden, NotFound, ValidationError
from workspace.extensions import db
from workspace.live.changes import Changes
from workspace.models import SCOPES, Agent, Conversation, Macro, MacroUsage, Queue, utcnow
from workspace.services import audit
from workspace.services.conversations.actions import commit_change
from workspace.services.conversations.queues import visible_queue_ids
from workspace.services.knowledge.articles import published_by_slug
from workspace.services.responses.actions import apply_actions, render_text

MAX_NAME_CHARS = 120
MAX_DESCRIPTION_CHARS = 2000
FIELDS = ("name", "description", "template", "actions", "scope", "queue")
MAX_IMPORT = 500


# ---------- permissions

def can_use(agent: Agent, macro: Macro) -> bool:
    """Global macros are everyone's; team ones their queue's agents' (and supervisors'); personal ones their owner's."""
    if macro.scope == "global":
        return True
    if macro.scope == "personal":
        return macro.owner_id == agent.id
    return agent.role != "agent" or macro.queue_id in visible_queue_ids(agent)


def can_manage(agent: Agent, macro: Macro) -> bool:
    """Owners manage personal macros, supervisors team ones, admins everything."""
    if agent.role == "admin":
        return True
    if macro.scope == "personal":
        return macro.owner_id == agent.id
    return macro.scope == "team" and agent.role == "supervisor"


def _check_may_create(agent: Agent, scope: str) -> None:
    needed = {"personal": "agent", "team": "supervisor", "global": "admin"}[scope]
    if needed == "admin" and agent.role != "admin" or needed == "supervisor" and agent.role == "agent":
        raise Forbidden(f"{scope} macros need the {needed} role")


def get_macro(macro_id: int, agent: Agent, *, manage: bool = False) -> Macro:
    """Return a macro the agent may use (or manage); others do not exist for them."""
    macro = db.session.get(Macro, macro_id)
    if macro is None or not (can_use(agent, macro) or can_manage(agent, macro)):
        raise NotFound(f"no macro {macro_id}")
    if manage and not can_manage(agent, macro):
        raise Forbidden("you may use this macro but not change it")
    return macro


# ---------- reading and searching

def usable_macros(agent: Agent, *, managed: bool = False) -> list[Macro]:
    """Every macro the agent may use (or, with managed, may manage)."""
    macros = db.session.scalars(sa.select(Macro).order_by(Macro.name, Macro.id)).all()
    check = can_manage if managed else can_use
    return [macro for macro in macros if check(agent, macro)]


def usage_counts(agent: Agent, macro_id: int | None = None) -> dict[int, tuple[int, int]]:
    """Macro id -> (the agent's uses, everyone's uses), for every macro or just `macro_id`."""
    query = sa.select(
        MacroUsage.macro_id, sa.func.sum(sa.case((MacroUsage.agent_id == agent.id, MacroUsage.count), else_=0)),
        sa.func.sum(MacroUsage.count)).group_by(MacroUsage.macro_id)
    if macro_id is not None:
        query = query.where(MacroUsage.macro_id == macro_id)
    rows = db.session.execute(query)
    return {macro_id: (int(mine), int(total)) for macro_id, mine, total in rows}


def _match(macro: Macro, words: list[str]) -> float:
    """How well the typed words match: name prefix, then a word of the name, then name, description or body."""
    name, body = macro.name.lower(), f"{macro.description}\n{macro.template}".lower()
    score = 0.0
    for word in words:
        if name.startswith(word):
            score += 4
        elif any(part.startswith(word) for part in name.replace("-", " ").split()):
            score += 3
        elif word in name:
            score += 2
        elif word in body:
            score += 1
        else:
            return 0.0  # every word must match somewhere
    return score


def search_macros(agent: Agent, text: str = "", *, managed: bool = False) -> list[tuple[Macro, tuple[int, int]]]:
    """Macros the agent may use, best first: by how well they match `text`, then by how much they are used.

    Returns:
        (macro, (my uses, everyone's uses)) pairs.
    """
    words = [word for word in text.lower().split() if word][:8]
    counts = usage_counts(agent)
    ranked = []
    for macro in usable_macros(agent, managed=managed):
        match = _match(macro, words) if words else 1.0
        if match:
            mine, total = counts.get(macro.id, (0, 0))
            ranked.append((match + math.log1p(mine) * 0.75 + math.log1p(total) * 0.25, macro, (mine, total)))
    ranked.sort(key=lambda row: (-row[0], row[1].name.lower(), row[1].id))
    return [(macro, usage) for _, macro, usage in ranked]


# ---------- writing

def _clean(data, *, current: Macro | None = None) -> dict:
    """Check a macro's fields (a whole macro, or the changed ones over `current`)."""
    if not isinstance(data, dict) or (current is None and not data):
        raise ValidationError(f"body: a JSON object with {', '.join(FIELDS)}", code="invalid_field")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ValidationError(f"{unknown[0]}: not a macro field (fields: {', '.join(FIELDS)})", code="invalid_field")
    merged = snapshot(current) if current else {
        "description": "", "template": "", "actions": [], "scope": "personal", "queue": None}
    merged.update(data)
    name = merged.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_CHARS:
        raise ValidationError(f"name: 1 to {MAX_NAME_CHARS} characters", code="invalid_field")
    if not isinstance(merged["description"], str) or len(merged["description"]) > MAX_DESCRIPTION_CHARS:
        raise ValidationError(f"description: text of at most {MAX_DESCRIPTION_CHARS} characters",
                              code="invalid_field")
    if merged["scope"] not in SCOPES:
        raise ValidationError(f"scope: one of {', '.join(SCOPES)}", code="invalid_field")
    queue = None
    if merged["scope"] == "team":
        if not isinstance(merged["queue"], str):
            raise ValidationError("queue: a team macro names its team's queue (a queue slug)", code="invalid_field")
        queue = db.session.scalar(sa.select(Queue).where(Queue.slug == merged["queue"]))
        if queue is None:
            raise NotFound(f"queue: no queue named {merged['queue']!r}")
    named = library.referenced_articles(merged["template"])
    missing = sorted(named - set(published_by_slug(named)))
    if missing:
        raise ValidationError(f"template: no published help article {missing[0]!r}", code="invalid_macro")
    try:
        library.check_template(merged["template"])
        actions = library.parse_actions(merged["actions"], template=merged["template"])
    except MacroError as error:
        raise ValidationError(str(error), code="invalid_macro")
    return {"name": name.strip(), "description": merged["description"], "template": merged["template"],
            "actions": [action.as_json() for action in actions], "scope": merged["scope"], "queue": queue}


def _fill(macro: Macro, fields: dict) -> None:
    for key in ("name", "description", "template", "actions", "scope"):
        setattr(macro, key, fields[key])
    macro.queue = fields["queue"]


def snapshot(macro: Macro) -> dict:
    """A macro's fields as audited and exported."""
    return {"name": macro.name, "description": macro.description, "template": macro.template,
            "actions": macro.actions, "scope": macro.scope, "queue": macro.queue.slug if macro.queue else None}


def create_macro(data, agent: Agent) -> Macro:
    """Create a macro; personal ones belong to their author."""
    fields = _clean(data)
    _check_may_create(agent, fields["scope"])
    macro = Macro(owner_id=agent.id)
    _fill(macro, fields)
    db.session.add(macro)
    db.session.flush()
    audit.record(agent, "macro.create", "macro", macro.id, after=snapshot(macro))
    db.session.commit()
    return macro


def update_macro(macro: Macro, data, agent: Agent) -> Macro:
    """Change a macro's fields; moving it to a wider scope needs that scope's role."""
    fields = _clean(data, current=macro)
    if fields["scope"] != macro.scope:
        _check_may_create(agent, fields["scope"])
    before = snapshot(macro)
    _fill(macro, fields)
    macro.updated_at = utcnow()
    audit.record(agent, "macro.update", "macro", macro.id, before=before, after=snapshot(macro))
    db.session.commit()
    return macro


def delete_macro(macro: Macro, agent: Agent) -> None:
    """Delete a macro (its usage counts go with it)."""
    audit.record(agent, "macro.delete", "macro", macro.id, before=snapshot(macro))
    db.session.delete(macro)
    db.session.commit()


def export_macros() -> list[dict]:
    """Every team and global macro as importable JSON (personal ones belong to their owners)."""
    macros = db.session.scalars(sa.select(Macro).where(Macro.scope != "personal").order_by(Macro.name, Macro.id))
    return [snapshot(macro) for macro in macros]


def import_macros(items, agent: Agent) -> dict:
    """Create or update (same name, scope and queue) team and global macros from exported JSON; all or nothing.

    Returns:
        {"created": n, "updated": n}
    """
    if not isinstance(items, list) or not items or len(items) > MAX_IMPORT:
        raise ValidationError(f"macros: a list of 1 to {MAX_IMPORT} macros", code="invalid_field")
    created = updated = 0
    for index, item in enumerate(items):
        try:
            fields = _clean(item)
        except ValidationError as error:
            raise ValidationError(f"macros[{index}].{error.message}", code=error.code)
        if fields["scope"] == "personal":
            raise ValidationError(f"macros[{index}].scope: import team or global macros", code="invalid_field")
        existing = db.session.scalar(sa.select(Macro).where(
            Macro.name == fields["name"], Macro.scope == fields["scope"],
            Macro.queue_id == fields["queue"].id if fields["queue"] else Macro.queue_id.is_(None)))
        macro = existing or Macro(owner_id=agent.id)
        before = snapshot(existing) if existing else None
        _fill(macro, fields)
        macro.updated_at = utcnow()
        db.session.add(macro)
        db.session.flush()
        audit.record(agent, "macro.import", "macro", macro.id, before=before, after=snapshot(macro))
        created, updated = created + (existing is None), updated + (existing is not None)
    db.session.commit()
    return {"created": created, "updated": updated}


# ---------- using

def count_use(macro_id: int, agent: Agent, times: int = 1) -> None:
    """Add to an agent's use count of a macro (in the current transaction)."""
    usage = db.session.get(MacroUsage, (macro_id, agent.id))
    if usage is None:
        usage = MacroUsage(macro_id=macro_id, agent_id=agent.id, count=0)
        db.session.add(usage)
    usage.count += times
    usage.last_used_at = utcnow()


def actions_of(macro: Macro) -> list:
    """A stored macro's actions, validated again (a queue or template may have changed since)."""
    try:
        return library.parse_actions(macro.actions, template=macro.template)
    except MacroError as error:
        raise ValidationError(f"macro {macro.name!r}: {error}", code="invalid_macro")


def preview_macro(macro: Macro, conversation: Conversation, agent: Agent) -> dict:
    """What applying the macro would do: the rendered reply and every change, with nothing written.

    The actions really run, in a transaction that is rolled back, so the
    preview cannot disagree with the apply.
    """
    try:
        applied = apply_actions(conversation, macro.template, actions_of(macro), agent)
        reply = applied.reply_text
        if reply is None and macro.template.strip():
            reply = render_text(macro.template, conversation, agent)
        return _result(applied, reply, conversation)
    finally:
        db.session.rollback()


def _result(applied, reply: str | None, conversation: Conversation) -> dict:
    kind = conversation.channel.kind
    return {"conversation_id": conversation.id, "reply": reply, "sends_reply": applied.reply is not None,
            "reply_length": reply_length(reply, kind) if reply is not None else None,
            "reply_limit": reply_limit(kind), "changes": applied.changes}


def apply_macro(macro: Macro, conversation: Conversation, agent: Agent) -> dict:
    """Apply a macro to one conversation: all its actions or none, audited, counted, announced.

    Returns:
        What was done: the reply sent (if any) and every change.
    """
    applied = apply_actions(conversation, macro.template, actions_of(macro), agent)
    count_use(macro.id, agent)
    db.session.flush()
    result = _result(applied, applied.reply_text, conversation)
    after = {"macro_id": macro.id, "changes": applied.changes,
             "message_id": applied.reply.id if applied.reply is not None else None}
    changes = Changes()
    applied.request_effects(changes)
    commit_change(conversation, agent, "conversation.macro", {"macro": macro.name}, after,
                  old_queue_id=applied.old_queue_id, changes=changes)
    return result

