"""A macro's actions: parsed from JSON, validated, and described, before anything applies them.

Actions are a JSON list of objects, each with a `type` and that type's
fields, applied in order:

    [{"type": "reply"}, {"type": "add_tags", "tags": ["outage"]}, {"type": "status", "status": "resolved"}]

Each type is one entry in PARSERS (a function that checks and cleans the
fields) and one in the workspace's appliers; adding an action is a few lines
in each. (Escalation to a ticket plugs in here as "escalate".)
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .errors import ActionError
from .rendering import check_template

MAX_ACTIONS = 20
MAX_TAGS = 30
MAX_TAG_CHARS = 40
MAX_SNOOZE_MINUTES = 90 * 24 * 60
PRIORITIES = ("urgent", "high", "normal", "low")
# Statuses a macro may set; "pending" is also what snoozing sets.
STATUSES = ("open", "pending", "resolved")
# Actions that send something to the customer: never undone, never sent twice.
SENDING = frozenset({"reply"})


@dataclass(frozen=True)
class Action:
    """One validated action: its type and its cleaned fields."""

    type: str
    params: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        """The action as stored and shown: {"type": ..., **fields}."""
        return {"type": self.type, **self.params}


def _only(raw: dict, path: str, allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(raw) - set(allowed) - {"type"})
    if unknown:
        expected = ", ".join(allowed) if allowed else "no other fields"
        raise ActionError(f"{path}.{unknown[0]}: not a field of this action ({expected})")


def _tags(raw: dict, path: str) -> dict:
    _only(raw, path, ("tags",))
    tags = raw.get("tags")
    if not isinstance(tags, list) or not tags or not all(isinstance(tag, str) for tag in tags):
        raise ActionError(f"{path}.tags: a non-empty list of tag names")
    cleaned = sorted({tag.strip().lower() for tag in tags if tag.strip()})
    if not cleaned or len(cleaned) > MAX_TAGS or any(len(t) > MAX_TAG_CHARS or "\x00" in t for t in cleaned):
        raise ActionError(f"{path}.tags: 1 to {MAX_TAGS} tags of at most {MAX_TAG_CHARS} characters")
    return {"tags": cleaned}


def _choice(name: str, choices: tuple[str, ...]) -> Callable[[dict, str], dict]:
    def parse(raw: dict, path: str) -> dict:
        _only(raw, path, (name,))
        if raw.get(name) not in choices:
            raise ActionError(f"{path}.{name}: one of {', '.join(choices)}")
        return {name: raw[name]}

    return parse


def _bare(raw: dict, path: str) -> dict:
    """An action that takes no fields (reply, escalate)."""
    _only(raw, path, ())
    return {}


def _note(raw: dict, path: str) -> dict:
    _only(raw, path, ("text",))
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ActionError(f"{path}.text: the note's text (a template, like the reply)")
    check_template(text)
    return {"text": text}


def _move(raw: dict, path: str) -> dict:
    _only(raw, path, ("queue",))
    if not isinstance(raw.get("queue"), str) or not raw["queue"].strip():
        raise ActionError(f"{path}.queue: a queue slug")
    return {"queue": raw["queue"].strip()}


def _assign(raw: dict, path: str) -> dict:
    _only(raw, path, ("assignee",))
    assignee = raw.get("assignee", "missing")
    if assignee is not None and assignee != "me" and (isinstance(assignee, bool) or not isinstance(assignee, int)):
        raise ActionError(f'{path}.assignee: an agent id, "me" or null (unassign)')
    return {"assignee": assignee}


def _snooze(raw: dict, path: str) -> dict:
    _only(raw, path, ("minutes", "until"))
    if ("minutes" in raw) == ("until" in raw):
        raise ActionError(f"{path}: either minutes (from when it is applied) or until (a time)")
    if "minutes" in raw:
        minutes = raw["minutes"]
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_SNOOZE_MINUTES:
            raise ActionError(f"{path}.minutes: a whole number from 1 to {MAX_SNOOZE_MINUTES}")
        return {"minutes": minutes}
    until = parse_time(raw["until"])
    if until is None:
        raise ActionError(f"{path}.until: an ISO 8601 time with its offset, e.g. 2026-12-01T09:00:00Z")
    return {"until": until.isoformat().replace("+00:00", "Z")}


def parse_time(value) -> datetime | None:
    """Parse an ISO 8601 time with an offset into UTC; None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else None


# type -> parse(raw action, path for messages) -> cleaned fields.
PARSERS: dict[str, Callable[[dict, str], dict]] = {
    "reply": _bare,
    "note": _note,
    "add_tags": _tags,
    "remove_tags": _tags,
    "priority": _choice("priority", PRIORITIES),
    "move": _move,
    "assign": _assign,
    "status": _choice("status", STATUSES),
    "snooze": _snooze,
    "tag_customer": _tags,
    "escalate": _bare,
}


def parse_actions(raw, *, template: str = "") -> list[Action]:
    """Validate a JSON action list against the macro's template.

    Args:
        raw: the list as sent.
        template: the macro's reply template ("reply" needs one).

    Returns:
        The actions, cleaned, in order.

    Raises:
        ActionError: naming the first bad action and field.
    """
    if not isinstance(raw, list):
        raise ActionError("actions: a list of {\"type\": ...} objects")
    if len(raw) > MAX_ACTIONS:
        raise ActionError(f"actions: at most {MAX_ACTIONS}")
    actions = []
    for index, item in enumerate(raw):
        path = f"actions[{index}]"
        if not isinstance(item, dict) or item.get("type") not in PARSERS:
            raise ActionError(f"{path}.type: one of {', '.join(PARSERS)}")
        actions.append(Action(item["type"], PARSERS[item["type"]](item, path)))
    kinds = [action.type for action in actions]
    if kinds.count("reply") > 1:
        raise ActionError("actions: at most one reply")
    if "reply" in kinds and not (template or "").strip():
        raise ActionError("actions: a reply needs the macro's template to be written")
    if "escalate" in kinds and kinds[-1] != "escalate":
        # Escalating writes (the ticket request is stored at once); nothing after it may fail and undo it.
        raise ActionError("actions: escalate must be the last action")
    if "snooze" in kinds and "status" in kinds:
        raise ActionError("actions: snooze sets the status to pending; do not set a status as well")
    return actions


def describe(action: Action) -> str:
    """A short sentence saying what the action does, for previews and the audit log."""
    p = action.params
    texts = {
        "reply": lambda: "send the reply",
        "note": lambda: "add an internal note",
        "add_tags": lambda: f"add tags {', '.join(p['tags'])}",
        "remove_tags": lambda: f"remove tags {', '.join(p['tags'])}",
        "priority": lambda: f"set priority {p['priority']}",
        "move": lambda: f"move to {p['queue']}",
        "assign": lambda: ("assign to me" if p["assignee"] == "me" else "unassign" if p["assignee"] is None
                           else f"assign to agent {p['assignee']}"),
        "status": lambda: f"set status {p['status']}",
        "snooze": lambda: f"snooze for {p['minutes']} minutes" if "minutes" in p else f"snooze until {p['until']}",
        "tag_customer": lambda: f"tag the customer {', '.join(p['tags'])}",
        "escalate": lambda: "escalate to a ticket",
    }
    return texts[action.type]()
