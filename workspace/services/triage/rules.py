"""Managing routing rules: validated by the routing library, ordered, audited."""

import sqlalchemy as sa

import routing
from routing import RuleError
from workspace.errors import NotFound, SwitchboardError, ValidationError
from workspace.extensions import db
from workspace.models import Agent, Queue, Rule, utcnow
from workspace.services import audit

EDITABLE = ("name", "enabled", "conditions", "actions")


def rules_in_order() -> list[Rule]:
    """Return every rule in evaluation order."""
    return db.session.scalars(sa.select(Rule).order_by(Rule.position, Rule.id)).all()


def queue_slugs() -> frozenset[str]:
    """Return the slugs of the queues that exist."""
    return frozenset(db.session.scalars(sa.select(Queue.slug)))


def check_spec(spec: dict) -> None:
    """Compile a rule spec against the existing queues; refuse it with the reason if invalid."""
    try:
        routing.compile_rule(spec, queues=queue_slugs())
    except RuleError as error:
        raise ValidationError(str(error), code="invalid_rule")


def get_rule(rule_id: int) -> Rule:
    """Return a rule by id or raise NotFound."""
    rule = db.session.get(Rule, rule_id)
    if rule is None:
        raise NotFound(f"no rule {rule_id}")
    return rule


def _snapshot(rule: Rule) -> dict:
    return {**rule.spec(), "position": rule.position}


def _fields(data: dict, *, partial: bool) -> dict:
    if not isinstance(data, dict):
        raise ValidationError("body: must be a JSON object", code="invalid_field")
    unknown = sorted(set(data) - set(EDITABLE) - {"position"})
    if unknown:
        raise ValidationError(f"{unknown[0]}: not a rule field (fields: {', '.join(EDITABLE)}, position)",
                              code="invalid_field")
    if not partial:
        for name in ("name", "conditions", "actions"):
            if name not in data:
                raise ValidationError(f"{name}: is required", code="invalid_field")
    return data


def create_rule(data: dict, agent: Agent) -> Rule:
    """Create a rule (at the end, or at `position`), refusing one that does not compile."""
    data = _fields(data, partial=False)
    spec = {"name": data["name"], "enabled": data.get("enabled", True), "conditions": data["conditions"],
            "actions": data["actions"]}
    check_spec(spec)
    existing = rules_in_order()
    position = _position(data.get("position"), len(existing))
    rule = Rule(position=0, created_by_id=agent.id, **spec)
    existing.insert(position, rule)
    db.session.add(rule)
    _renumber(existing)
    db.session.flush()
    audit.record(agent, "rule.create", "rule", rule.id, after=_snapshot(rule))
    db.session.commit()
    return rule


def update_rule(rule: Rule, data: dict, agent: Agent) -> Rule:
    """Change a rule's name, conditions, actions, enabled flag or position; audited."""
    data = _fields(data, partial=True)
    before = _snapshot(rule)
    spec = {**rule.spec(), **{key: data[key] for key in EDITABLE if key in data}}
    check_spec(spec)
    for key in EDITABLE:
        setattr(rule, key, spec[key])
    if "position" in data:
        ordered = [r for r in rules_in_order() if r.id != rule.id]
        ordered.insert(_position(data["position"], len(ordered)), rule)
        _renumber(ordered)
    rule.updated_at = utcnow()
    audit.record(agent, "rule.update", "rule", rule.id, before=before, after=_snapshot(rule))
    db.session.commit()
    return rule


def delete_rule(rule: Rule, agent: Agent) -> None:
    """Delete a rule; the rest keep their order."""
    audit.record(agent, "rule.delete", "rule", rule.id, before=_snapshot(rule))
    db.session.delete(rule)
    db.session.flush()
    _renumber(rules_in_order())
    db.session.commit()


def reorder_rules(order, agent: Agent) -> list[Rule]:
    """Put the rules in the given order of ids, which must name every rule exactly once."""
    rules = rules_in_order()
    if not isinstance(order, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in order):
        raise ValidationError("order: must be a list of rule ids", code="invalid_field")
    if sorted(order) != sorted(rule.id for rule in rules):
        raise SwitchboardError("order: must list every rule id exactly once", code="conflict", status=409)
    before = [rule.id for rule in rules]
    by_id = {rule.id: rule for rule in rules}
    _renumber([by_id[rule_id] for rule_id in order])
    audit.record(agent, "rule.reorder", "rules", None, before={"order": before}, after={"order": order})
    db.session.commit()
    return rules_in_order()


def _position(value, length: int) -> int:
    if value is None:
        return length
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= length:
        raise ValidationError(f"position: must be a whole number from 0 to {length}", code="invalid_field")
    return value


def _renumber(rules: list[Rule]) -> None:
    """Give rules consecutive positions in list order, touching updated_at where it changed."""
    now = utcnow()
    for index, rule in enumerate(rules):
        if rule.position != index:
            rule.position = index
            rule.updated_at = now


def rules_fingerprint() -> tuple:
    """A cheap value that changes whenever any rule is created, changed, moved or deleted."""
    return tuple(db.session.execute(sa.select(sa.func.count(Rule.id), sa.func.max(Rule.updated_at))).one())


def compiled_rules(cache: dict) -> list:
    """Return the compiled rules in force, recompiling only when they changed.

    Args:
        cache: a per-process dict that keeps the compiled rules between calls.
    """
    fingerprint = rules_fingerprint()
    if cache.get("fingerprint") != fingerprint:
        specs = [rule.spec() for rule in rules_in_order()]
        cache["rules"] = routing.compile_rules(specs, queues=queue_slugs())
        cache["fingerprint"] = fingerprint
    return cache["rules"]
