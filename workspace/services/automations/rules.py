"""An automation's conditions and actions: parsed from JSON, checked, described, and evaluated.

Conditions are a list, all of which must hold:

    [{"field": "status", "op": "in", "value": ["pending"]},
     {"field": "hours_since_agent", "op": "gte", "value": 72}]

Actions are a list applied in order. Most are the macros' own actions (see
macros.actions), applied by the same code; a few belong to automations: a
reply with its own text, a macro applied whole, "assign" to the queue's
"lead", and "notify".
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from macros import Action, MacroError, describe, parse_actions
from macros.actions import MAX_ACTIONS
from macros.rendering import check_template
from workspace.errors import ValidationError
from workspace.models import ACTIVE_STATUSES, STATUSES, Priority, is_id

# Fields compared with a list of names: the conversation's value must (not) be among them.
CHOICE_FIELDS = {
    "status": STATUSES,
    "queue": None,  # queue slugs: checked against the queues when saved
    "priority": tuple(level.label for level in Priority),
    "sla": ("ok", "at_risk", "breached"),
}
# Fields measured in hours from a moment of the conversation (its creation, the customer's or an agent's
# last message).
HOURS_FIELDS = ("age_hours", "hours_since_customer", "hours_since_agent")
MAX_HOURS = 24 * 365
FIELDS = (*CHOICE_FIELDS, "tags", "assigned", *HOURS_FIELDS, "satisfaction")
OPS = {**{field: ("in", "not_in") for field in CHOICE_FIELDS}, "tags": ("has_any", "has_none"),
       "assigned": ("is",), **{field: ("gte", "lt") for field in HOURS_FIELDS}, "satisfaction": ("gte", "lt")}
MAX_CONDITIONS = 20
MAX_CHOICES = 50
# Actions of automations beyond the macros' (whose "reply" and "assign" are replaced by these).
OWN_ACTIONS = ("reply", "macro", "assign", "notify")
NOTIFY_TARGETS = ("assignee", "queue")
MAX_REPLY_CHARS = 10000


@dataclass(frozen=True)
class Condition:
    """One checked condition."""

    field: str
    op: str
    value: object

    def as_json(self) -> dict:
        """The condition as stored and shown."""
        return {"field": self.field, "op": self.op, "value": self.value}


@dataclass(frozen=True)
class Facts:
    """What conditions read of a conversation besides its columns: when an agent last wrote to the customer, and
    the customer's satisfaction score (None until they answer the survey)."""

    last_agent_at: datetime | None = None
    satisfaction: int | None = None


def _fail(message: str) -> None:
    raise ValidationError(message, code="invalid_automation")


def parse_conditions(raw) -> list[Condition]:
    """Check a condition list; raise ValidationError (invalid_automation) naming the first bad one."""
    if not isinstance(raw, list) or len(raw) > MAX_CONDITIONS:
        _fail(f"conditions: a list of at most {MAX_CONDITIONS} {{field, op, value}} objects")
    parsed = []
    for index, item in enumerate(raw):
        path = f"conditions[{index}]"
        if not isinstance(item, dict) or item.get("field") not in FIELDS:
            _fail(f"{path}.field: one of {', '.join(FIELDS)}")
        field, op, value = item["field"], item.get("op"), item.get("value")
        if set(item) - {"field", "op", "value"}:
            _fail(f"{path}: only field, op and value")
        if op not in OPS[field]:
            _fail(f"{path}.op: one of {', '.join(OPS[field])} for {field}")
        parsed.append(Condition(field, op, _value(field, value, path)))
    return parsed


def _value(field: str, value, path: str):
    if field == "satisfaction":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value not in (1, 2, 3, 4, 5):
            _fail(f"{path}.value: a score from 1 to 5")
        return int(value)
    if field in HOURS_FIELDS:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_HOURS:
            _fail(f"{path}.value: a number of hours above 0, at most {MAX_HOURS}")
        return value
    if field == "assigned":
        if not isinstance(value, bool):
            _fail(f"{path}.value: true or false")
        return value
    if (not isinstance(value, list) or not value or len(value) > MAX_CHOICES
            or not all(isinstance(item, str) and 0 < len(item) <= 64 for item in value)):
        _fail(f"{path}.value: a list of 1 to {MAX_CHOICES} names")
    choices = CHOICE_FIELDS.get(field)
    if choices is not None and any(item not in choices for item in value):
        _fail(f"{path}.value: each one of {', '.join(choices)}")
    return sorted({item.strip().lower() if field == "tags" else item for item in value})


def parse_automation_actions(raw) -> list[Action]:
    """Check an action list; raise ValidationError (invalid_automation) naming the first bad action.

    Returns:
        The actions as macros.Action values ("reply" carries its text, "macro" its macro id).
    """
    if not isinstance(raw, list) or not raw or len(raw) > MAX_ACTIONS:
        _fail(f'actions: a list of 1 to {MAX_ACTIONS} {{"type": ...}} objects')
    actions = []
    for index, item in enumerate(raw):
        path = f"actions[{index}]"
        if isinstance(item, dict) and item.get("type") in OWN_ACTIONS:
            actions.append(_own_action(item, path))
            continue
        try:  # one at a time, so a refusal names the action by its place in this list
            actions.extend(parse_actions([item]))
        except MacroError as error:
            _fail(str(error).replace("actions[0]", path, 1))
    kinds = [action.type for action in actions]
    if kinds.count("reply") + kinds.count("macro") > 1:
        _fail("actions: at most one reply or macro (each sends at most one reply)")
    if "escalate" in kinds and kinds[-1] != "escalate":
        _fail("actions: escalate must be the last action")
    if "snooze" in kinds and "status" in kinds:
        _fail("actions: snooze sets the status to pending; do not set a status as well")
    return actions


def _own_action(item: dict, path: str) -> Action:
    kind = item["type"]
    fields = {"reply": "text", "macro": "macro_id", "assign": "assignee", "notify": "target"}[kind]
    if set(item) - {"type", fields}:
        _fail(f"{path}: {kind} takes only {fields}")
    value = item.get(fields)
    if kind == "reply":
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_REPLY_CHARS:
            _fail(f"{path}.text: the reply (a template, as macros write it), 1 to {MAX_REPLY_CHARS} characters")
        try:
            check_template(value)
        except MacroError as error:
            _fail(f"{path}.text: {error}")
    elif kind == "macro" and not is_id(value):
        _fail(f"{path}.macro_id: a macro's id")
    elif kind == "assign" and value is not None and value != "lead" and not is_id(value):
        _fail(f'{path}.assignee: an agent id, "lead" (the queue\'s lead) or null (unassign)')
    elif kind == "notify" and value not in NOTIFY_TARGETS:
        _fail(f"{path}.target: one of {', '.join(NOTIFY_TARGETS)}")
    return Action(kind, {fields: value})


def describe_action(action: Action) -> str:
    """A short sentence saying what the action does (for the dry run, the admin page and the record)."""
    params = action.params
    if action.type == "reply":
        return "send a reply"
    if action.type == "macro":
        return f"apply macro {params['macro_id']}"
    if action.type == "notify":
        return f"notify the {params['target']}"
    if action.type == "assign":
        return ("assign to the queue's lead" if params["assignee"] == "lead" else "unassign"
                if params["assignee"] is None else f"assign to agent {params['assignee']}")
    return describe(action)


def statuses_of(conditions: list[Condition]) -> tuple[str, ...]:
    """The statuses a conversation must have to match: those of the status conditions, or the active ones
    (resolved and spam conversations are only looked at when a condition names them)."""
    allowed = set(ACTIVE_STATUSES)
    named = False
    for condition in conditions:
        if condition.field == "status":
            chosen = set(condition.value) if condition.op == "in" else set(STATUSES) - set(condition.value)
            allowed = (allowed if named else set(STATUSES)) & chosen
            named = True
    return tuple(sorted(allowed))


def _hours_since(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else (now - moment) / timedelta(hours=1)


def reading(condition: Condition, conversation, facts: Facts, now: datetime):
    """The conversation's value for a condition's field (hours as a number; None when unknown)."""
    field = condition.field
    if field == "status":
        return conversation.status
    if field == "queue":
        return conversation.queue.slug if conversation.queue else None
    if field == "priority":
        return Priority(conversation.priority).label
    if field == "sla":
        return conversation.sla_status
    if field == "tags":
        return sorted(set(conversation.tags or []) & set(condition.value))
    if field == "assigned":
        return conversation.assignee_id is not None
    if field == "age_hours":
        return _hours_since(conversation.created_at, now)
    if field == "hours_since_customer":
        return _hours_since(conversation.last_message_at, now)
    if field == "satisfaction":
        return facts.satisfaction
    # hours_since_agent: since the last reply an agent wrote, or since the conversation began if none did.
    return _hours_since(facts.last_agent_at or conversation.created_at, now)


def holds(condition: Condition, conversation, facts: Facts, now: datetime) -> bool:
    """Tell whether one condition holds for the conversation at `now`."""
    value = reading(condition, conversation, facts, now)
    op = condition.op
    if op == "in":
        return value in condition.value
    if op == "not_in":
        return value not in condition.value
    if op == "has_any":
        return bool(value)
    if op == "has_none":
        return not value
    if op == "is":
        return value is condition.value
    if value is None:
        return False
    return value >= condition.value if op == "gte" else value < condition.value


def matches(conditions: list[Condition], conversation, facts: Facts, now: datetime) -> bool:
    """Tell whether every condition holds (and the status is one the conditions allow)."""
    return (conversation.status in statuses_of(conditions)
            and all(holds(condition, conversation, facts, now) for condition in conditions))


def state_of(conditions: list[Condition], conversation, facts: Facts) -> str:
    """A digest of the state the conditions look at: the same state never fires an automation twice.

    Plain fields count by value; time conditions by the moment they measure
    from (not by the hours elapsed, which change every tick), and the SLA by
    its status and due time, so a new wait or a new breach is a new state.
    """
    anchors = {"status": conversation.status, "statuses": statuses_of(conditions)}
    for condition in conditions:
        field = condition.field
        if field == "age_hours":
            anchors[field] = conversation.created_at.isoformat()
        elif field == "hours_since_customer":
            anchors[field] = conversation.last_message_at.isoformat()
        elif field == "hours_since_agent":
            anchors[field] = (facts.last_agent_at or conversation.created_at).isoformat()
        elif field == "sla":
            anchors[field] = [conversation.sla_status, conversation.sla_due_at.isoformat()]
        else:
            anchors[field] = reading(condition, conversation, facts, conversation.created_at)
    return hashlib.sha1(json.dumps(anchors, sort_keys=True, default=str).encode()).hexdigest()
