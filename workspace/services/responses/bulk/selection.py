"""What a bulk request asks for (a macro or one change, as actions) and which conversations, checked."""

from collections.abc import Callable

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

import macros as library
from macros import MacroError
from workspace.errors import Forbidden, NotFound, ValidationError
from workspace.extensions import db
from workspace.models import Agent, Conversation, Queue, has_role, is_id
from workspace.services.conversations.actions import can_see
from workspace.services.conversations.queues import ORDER, assignee_filter, queue_filter, visible_queue_ids
from workspace.services.responses.library import get_macro
from workspace.services.supervision import incidents


def check_body(body) -> dict:
    """Refuse a request body that is not a JSON object."""
    if not isinstance(body, dict):
        raise ValidationError("body: a JSON object with kind and conversation_ids or filter", code="invalid_field")
    return body


def _macro_kind(body: dict, agent: Agent) -> tuple[str, list]:
    macro_id = body.get("macro_id")
    if not is_id(macro_id):
        raise ValidationError("macro_id: the macro to apply", code="invalid_field")
    macro = get_macro(macro_id, agent)
    return macro.template, macro.actions


def _reply_kind(body: dict, agent: Agent) -> tuple[str, list]:
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("text: the reply to send (a template, like a macro's)", code="invalid_field")
    return text, [{"type": "reply"}]


def _tags_kind(body: dict, agent: Agent) -> tuple[str, list]:
    actions = [{"type": f"{verb}_tags", "tags": body[verb]} for verb in ("add", "remove") if body.get(verb)]
    if not actions:
        raise ValidationError("add / remove: tags to add or remove", code="invalid_field")
    return "", actions


# kind -> (body, agent) -> (reply template, raw action list); every bulk kind is a macro underneath.
KINDS: dict[str, Callable[[dict, Agent], tuple[str, list]]] = {
    "macro": _macro_kind,
    "reply": _reply_kind,
    "assign": lambda body, agent: ("", [{"type": "assign", "assignee": body.get("assignee", "missing")}]),
    "tags": _tags_kind,
    "move": lambda body, agent: ("", [{"type": "move", "queue": body.get("queue")}]),
    "status": lambda body, agent: ("", [{"type": "status", "status": body.get("status")}]),
}


def choose_what(body: dict, agent: Agent) -> tuple[str, str, list, int | None]:
    """The kind, reply template, validated actions and macro id a request asks for."""
    kind = body.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:  # an object or a list is not hashable: check the type first
        raise ValidationError(f"kind: one of {', '.join(KINDS)}", code="invalid_field")
    template, raw = KINDS[kind](body, agent)
    try:
        library.check_template(template)
        actions = library.parse_actions(raw, template=template)
    except MacroError as error:
        raise ValidationError(str(error).replace("actions[0].", ""), code="invalid_macro")
    if not actions:
        raise ValidationError("the macro has no actions to apply", code="invalid_macro")
    return kind, template, actions, body["macro_id"] if kind == "macro" else None


def choose_which(body: dict, agent: Agent) -> tuple[list[int], dict]:
    """The conversation ids chosen, in order: listed one by one, all matching a queue's filter, or an incident's."""
    limit = current_app.config["BULK_MAX_CONVERSATIONS"]
    ids, chosen = body.get("conversation_ids"), body.get("filter")
    if sum(body.get(way) is not None for way in ("conversation_ids", "filter", "incident_id")) != 1:
        raise ValidationError("conversation_ids, filter or incident_id: choose conversations one way",
                              code="invalid_field")
    if body.get("incident_id") is not None:
        return _incident_conversations(body["incident_id"], agent, limit)
    if ids is not None:
        if not isinstance(ids, list) or not ids or len(ids) > limit \
                or not all(is_id(i) for i in ids):
            raise ValidationError(f"conversation_ids: a list of 1 to {limit} conversation ids", code="invalid_field")
        ids = list(dict.fromkeys(ids))
        visible = set(db.session.scalars(sa.select(Conversation.id).where(
            Conversation.id.in_(ids), Conversation.queue_id.in_(visible_queue_ids(agent))))) \
            if agent.role == "agent" else set(db.session.scalars(sa.select(Conversation.id).where(
                Conversation.id.in_(ids))))
        missing = [i for i in ids if i not in visible]
        if missing:
            raise NotFound(f"no conversation {missing[0]}")
        return ids, {"conversation_ids": len(ids)}
    if not isinstance(chosen, dict):
        raise ValidationError("filter: an object with queue, status, assignee, tag, channel", code="invalid_field")
    queue = db.session.scalar(sa.select(Queue).where(Queue.slug == chosen.get("queue")))
    if queue is None or queue.id not in visible_queue_ids(agent):
        raise NotFound(f"filter.queue: no queue named {chosen.get('queue')!r}")
    assignee = chosen.get("assignee")
    conditions = queue_filter(queue, status=chosen.get("status", "open"),
                              assignee_id=assignee_filter(None if assignee is None else str(assignee), agent),
                              tag=chosen.get("tag") or None, channel=chosen.get("channel") or None)
    ids = db.session.scalars(sa.select(Conversation.id).where(*conditions).order_by(*ORDER).limit(limit + 1)).all()
    if not ids:
        raise ValidationError("filter: no conversation matches", code="nothing_selected")
    if len(ids) > limit:
        raise ValidationError(f"filter: more than {limit} conversations match; narrow it", code="too_many")
    return list(ids), {"filter": {key: chosen.get(key) for key in ("queue", "status", "assignee", "tag", "channel")
                                  if chosen.get(key) is not None}}


def _incident_conversations(incident_id, agent: Agent, limit: int) -> tuple[list[int], dict]:
    """An incident's conversations still needing work (supervisors only: incidents span every queue)."""
    if not has_role(agent, "supervisor"):
        raise Forbidden("acting on an incident's conversations needs the supervisor role")
    if not is_id(incident_id):
        raise ValidationError("incident_id: the incident whose open conversations to change", code="invalid_field")
    ids = incidents.incident_conversation_ids(incidents.find(incident_id))
    if not ids:
        raise ValidationError("incident_id: the incident has no open conversation", code="nothing_selected")
    if len(ids) > limit:
        raise ValidationError(f"incident_id: more than {limit} open conversations; use a filter", code="too_many")
    return ids, {"incident_id": incident_id}


def load_conversations(conversation_ids: list[int]) -> dict[int, Conversation]:
    """Load conversations with what actions and events read (customer, channel, queue, assignee), by id."""
    rows = db.session.scalars(sa.select(Conversation).where(Conversation.id.in_(conversation_ids)).options(
        so.joinedload(Conversation.author), so.joinedload(Conversation.channel),
        so.joinedload(Conversation.queue), so.joinedload(Conversation.assignee))).unique().all()
    return {conversation.id: conversation for conversation in rows}


def skip_reason(conversation: Conversation | None, agent: Agent, holder: int | None, include_locked: bool,
                 names: dict[int, str]) -> str | None:
    """Why a conversation is left alone, or None to go ahead."""
    if conversation is None or not can_see(agent, conversation):
        return "no longer in your queues"
    if conversation.status == "new":
        return "still being routed"
    if holder is not None and holder != agent.id and not include_locked:
        return f"{names.get(holder, 'another agent')} is replying to it"
    return None


def agent_names(agent_ids) -> dict[int, str]:
    """Agent id -> name, for saying who holds a lock."""
    ids = set(agent_ids)
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(Agent.id, Agent.name).where(Agent.id.in_(ids))).all())
