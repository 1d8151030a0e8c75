"""Admin rules: JSON specs compiled once, then evaluated in order against each post.

A rule is stored as JSON::

    {"id": 7, "name": "Billing keywords", "enabled": true,
     "conditions": {"any": [{"keywords": ["refund", "charged twice"]}, {"mention": "billing"}]},
     "actions": {"queue": "billing", "priority": "high", "score": 10, "tags": ["money"],
                 "assign": "ana@example.com", "spam": false, "stop": true}}

Conditions are described in routing.conditions. Evaluation semantics, rule by
rule in list order (disabled rules are skipped):

- ``queue`` and ``assign``: the first matching rule that sets one wins; a later
  rule's value is recorded as overridden. A queue that does not exist is
  ignored (and recorded), so the next rule may still set one.
- ``priority``: the most urgent level any matching rule asks for is a floor.
- ``score``: every matching rule's points are added to the priority score.
- ``tags``: the union, in order of first appearance.
- ``spam``: set if any matching rule says true.
- ``stop``: rules after this one are not applied; those that would have matched
  are still listed in the explanation as "stopped", so admins see what a stop hides.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from routing.conditions import PostFacts, Predicate, compile_condition
from routing.decision import PRIORITY_LEVELS, level_rank
from routing.errors import RuleError

MAX_TAGS = 20
MAX_TAG_CHARS = 50
MAX_SCORE = 1_000
MAX_NAME_CHARS = 200
_ACTIONS = ("queue", "priority", "score", "tags", "assign", "spam", "stop")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SLUG = re.compile(r"^[\w][\w.-]{0,99}$")


@dataclass(frozen=True, slots=True)
class RuleActions:
    """What a rule does when its conditions hold."""

    queue: str | None = None
    priority: str | None = None
    score: float = 0.0
    tags: tuple[str, ...] = ()
    assign: str | None = None
    spam: bool = False
    stop: bool = False

    def as_dict(self) -> dict:
        """Return the actions that are set, as JSON-serialisable data."""
        out: dict = {}
        for name in _ACTIONS:
            value = getattr(self, name)
            if value:  # unset actions are None, 0, () or False
                out[name] = list(value) if name == "tags" else value
        return out


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A validated rule, ready to evaluate: its identity, predicate and actions."""

    id: object
    name: str
    enabled: bool
    condition: Predicate = field(repr=False, compare=False)
    actions: RuleActions

    def matches(self, facts: PostFacts) -> bool:
        """Return whether the rule's conditions hold for a prepared post.

        Args:
            facts: the post, prepared by PostFacts.

        Returns:
            True if the conditions hold (whether or not the rule is enabled).
        """
        return self.condition(facts)

    @property
    def label(self) -> str:
        """Return how the rule is named in explanations, e.g. "rule 'Billing keywords'"."""
        return f"rule {self.name!r}"


def _compile_actions(spec: object, queues: Iterable[str] | None) -> RuleActions:
    """Validate a rule's actions object."""
    if not isinstance(spec, dict) or not spec:
        raise RuleError("actions must be a non-empty JSON object")
    unknown = [k for k in spec if k not in _ACTIONS]
    if unknown:
        raise RuleError(f"unknown action {unknown[0]!r} (known: {', '.join(_ACTIONS)})")
    queue = spec.get("queue")
    if queue is not None:
        if not isinstance(queue, str) or not _SLUG.match(queue):
            raise RuleError(f"queue must be a queue slug, got {queue!r}")
        if queues is not None and queue not in set(queues):
            raise RuleError(f"queue {queue!r} does not exist")
    priority = spec.get("priority")
    if priority is not None and priority not in PRIORITY_LEVELS:
        raise RuleError(f"priority must be one of {', '.join(PRIORITY_LEVELS)}, got {priority!r}")
    score = spec.get("score", 0)
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score):
        raise RuleError(f"score must be a number, got {score!r}")
    if abs(score) > MAX_SCORE:
        raise RuleError(f"score must be between -{MAX_SCORE} and {MAX_SCORE}, got {score!r}")
    tags = spec.get("tags", [])
    if isinstance(tags, str):
        tags = [tags]
    if not isinstance(tags, list) or any(not isinstance(t, str) or not t.strip() for t in tags):
        raise RuleError("tags must be a list of non-empty strings")
    if len(tags) > MAX_TAGS or any(len(t) > MAX_TAG_CHARS for t in tags):
        raise RuleError(f"at most {MAX_TAGS} tags of at most {MAX_TAG_CHARS} characters each")
    assign = spec.get("assign")
    if assign is not None and (not isinstance(assign, str) or not _EMAIL.match(assign)):
        raise RuleError(f"assign must be an agent's e-mail address, got {assign!r}")
    for flag in ("spam", "stop"):
        if not isinstance(spec.get(flag, False), bool):
            raise RuleError(f"{flag} must be true or false, got {spec[flag]!r}")
    return RuleActions(
        queue=queue,
        priority=priority,
        score=float(score),
        tags=tuple(dict.fromkeys(t.strip() for t in tags)),
        assign=assign,
        spam=spec.get("spam", False),
        stop=spec.get("stop", False),
    )


def compile_rule(spec: dict, *, queues: Iterable[str] | None = None) -> CompiledRule:
    """Validate and compile one rule spec; refuse anything invalid with the reason.

    Args:
        spec: the rule as stored (id, name, enabled, conditions, actions); other
            top-level keys (positions, timestamps) are ignored.
        queues: if given, the existing queue slugs; a queue action naming another
            is refused.

    Returns:
        The CompiledRule.

    Raises:
        RuleError: unknown condition type or action, bad regex, bad value types,
            limits exceeded; the message names the rule.
    """
    if not isinstance(spec, dict):
        raise RuleError(f"a rule must be a JSON object, got {type(spec).__name__}")
    rule_id = spec.get("id")
    name = spec.get("name") or f"rule {rule_id}"
    where = f"rule {name!r}: "
    try:
        if not isinstance(name, str) or len(name) > MAX_NAME_CHARS:
            raise RuleError(f"name must be a string of at most {MAX_NAME_CHARS} characters")
        enabled = spec.get("enabled", True)
        if not isinstance(enabled, bool):
            raise RuleError(f"enabled must be true or false, got {enabled!r}")
        if "conditions" not in spec:
            raise RuleError('conditions are missing (use {"all": []} to match every post)')
        condition = compile_condition(spec["conditions"])
        actions = _compile_actions(spec.get("actions"), queues)
    except RuleError as exc:
        raise RuleError(where + str(exc)) from exc
    return CompiledRule(id=rule_id, name=name, enabled=enabled, condition=condition, actions=actions)


def compile_rules(specs: Iterable[dict], *, queues: Iterable[str] | None = None) -> list[CompiledRule]:
    """Compile an ordered list of rule specs.

    Args:
        specs: rule specs, in evaluation order.
        queues: if given, the existing queue slugs (see compile_rule).

    Returns:
        The compiled rules, in the same order (disabled ones included, so the
        list mirrors what admins see).

    Raises:
        RuleError: for the first invalid rule, naming it.
    """
    return [compile_rule(spec, queues=queues) for spec in specs]


@dataclass(slots=True)
class RuleOutcome:
    """What the rules decided for one post, and the per-rule record for the explanation."""

    queue: str | None = None
    queue_rule: str | None = None
    assignee: str | None = None
    spam: bool = False
    tags: list[str] = field(default_factory=list)
    score_bumps: list[tuple[str, float]] = field(default_factory=list)
    floor: tuple[str, str] | None = None  # (level, which rule forced it)
    record: list[dict] = field(default_factory=list)


def apply_rules(rules: Sequence[CompiledRule], facts: PostFacts, queues: frozenset[str]) -> RuleOutcome:
    """Evaluate rules in order against one prepared post.

    Args:
        rules: compiled rules, in order.
        facts: the post, prepared by PostFacts.
        queues: the queue slugs that exist; a rule's queue outside them is ignored.

    Returns:
        The RuleOutcome, whose record lists each matching rule with its status:
        "fired" (at least one action applied), "overridden" (every action was
        superseded) or "stopped" (it matched after a rule with stop).
    """
    out = RuleOutcome()
    stopped_by: str | None = None
    for rule in rules:
        if not rule.enabled or not rule.condition(facts):
            continue
        entry: dict = {"id": rule.id, "name": rule.name}
        if stopped_by is not None:
            entry.update(status="stopped", reason=f"evaluation stopped by {stopped_by}", actions=rule.actions.as_dict())
            out.record.append(entry)
            continue
        applied: dict = {}
        ignored: list[dict] = []
        a = rule.actions
        if a.queue is not None:
            if a.queue not in queues:
                ignored.append({"action": "queue", "value": a.queue, "reason": f"queue {a.queue!r} does not exist"})
            elif out.queue is not None:
                ignored.append(
                    {"action": "queue", "value": a.queue, "reason": f"{out.queue_rule} already set queue {out.queue}"}
                )
            else:
                out.queue, out.queue_rule = a.queue, rule.label
                applied["queue"] = a.queue
        if a.assign is not None:
            if out.assignee is not None:
                ignored.append({"action": "assign", "value": a.assign, "reason": f"already assigned to {out.assignee}"})
            else:
                out.assignee = applied["assign"] = a.assign
        if a.priority is not None:
            if out.floor is None or level_rank(a.priority) < level_rank(out.floor[0]):
                out.floor = (a.priority, rule.label)
                applied["priority"] = a.priority
            else:
                ignored.append(
                    {
                        "action": "priority",
                        "value": a.priority,
                        "reason": f"{out.floor[1]} already forces {out.floor[0]}",
                    }
                )
        if a.score:
            out.score_bumps.append((rule.label, a.score))
            applied["score"] = a.score
        if a.tags:
            out.tags.extend(t for t in a.tags if t not in out.tags)
            applied["tags"] = list(a.tags)
        if a.spam:
            out.spam = applied["spam"] = True
        if a.stop:
            stopped_by = rule.label
            applied["stop"] = True
        entry.update(status="fired" if applied else "overridden", applied=applied)
        if ignored:
            entry["ignored"] = ignored
        out.record.append(entry)
    return out
