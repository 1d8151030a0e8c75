"""Admins' automations: create, change, delete, list with their firing counts, and the defaults Switchboard ships."""

import sqlalchemy as sa

from workspace.errors import NotFound, ValidationError
from workspace.extensions import db
from workspace.models import Agent, Automation, AutomationFiring, Queue, utcnow
from workspace.services import audit
from workspace.services.automations.rules import parse_automation_actions, parse_conditions

FIELDS = ("name", "description", "enabled", "position", "conditions", "actions")
MAX_NAME_CHARS = 120
MAX_DESCRIPTION_CHARS = 2000
MAX_POSITION = 10000

# The automations Switchboard ships, disabled: key -> fields.
DEFAULTS = {
    "remind-pending": {
        "name": "Remind on pending after 3 days",
        "description": "The customer has not answered for 3 days since an agent's last reply: ask once more.",
        "conditions": [{"field": "status", "op": "in", "value": ["pending"]},
                       {"field": "hours_since_agent", "op": "gte", "value": 72}],
        "actions": [{"type": "reply", "text": "Hi {{ author.first_name | default('there') }}, we are still here "
                                              "to help: just reply to this message if you need anything else."},
                    {"type": "add_tags", "tags": ["reminded"]}]},
    "resolve-pending": {
        "name": "Resolve pending after 7 days",
        "description": "Nobody answered for 7 days since an agent's last reply: resolve it (a reply reopens it).",
        "conditions": [{"field": "status", "op": "in", "value": ["pending"]},
                       {"field": "hours_since_agent", "op": "gte", "value": 168}],
        "actions": [{"type": "status", "status": "resolved"}]},
    "escalate-breached-urgent": {
        "name": "Escalate breached urgent conversations to the queue's lead",
        "description": "An urgent conversation whose SLA is breached goes to the queue's lead, with a note.",
        "conditions": [{"field": "priority", "op": "in", "value": ["urgent"]},
                       {"field": "sla", "op": "in", "value": ["breached"]}],
        "actions": [{"type": "assign", "assignee": "lead"},
                    {"type": "note", "text": "SLA breached on an urgent conversation: handed to the queue's lead."},
                    {"type": "notify", "target": "assignee"}]},
}


def snapshot(automation: Automation) -> dict:
    """An automation's fields as audited and shown."""
    return {"name": automation.name, "description": automation.description, "enabled": automation.enabled,
            "position": automation.position, "conditions": automation.conditions, "actions": automation.actions}


def _clean(data, current: Automation | None) -> dict:
    """Check an automation's fields (a whole one, or the changed ones over `current`)."""
    if not isinstance(data, dict) or (current is None and not data):
        raise ValidationError(f"body: a JSON object with {', '.join(FIELDS)}", code="invalid_field")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ValidationError(f"{unknown[0]}: not an automation field ({', '.join(FIELDS)})", code="invalid_field")
    merged = snapshot(current) if current else {"description": "", "enabled": False, "position": 0}
    merged.update(data)
    name = merged.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_CHARS or "\x00" in name:
        raise ValidationError(f"name: 1 to {MAX_NAME_CHARS} characters", code="invalid_field")
    description = merged["description"]
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION_CHARS or "\x00" in description:
        raise ValidationError(f"description: at most {MAX_DESCRIPTION_CHARS} characters", code="invalid_field")
    if not isinstance(merged["enabled"], bool):
        raise ValidationError("enabled: true or false", code="invalid_field")
    position = merged["position"]
    # JSON has one number type: 3.0 is the whole number 3.
    if (isinstance(position, bool) or not isinstance(position, (int, float)) or position != int(position)
            or not 0 <= position <= MAX_POSITION):
        raise ValidationError(f"position: a whole number from 0 to {MAX_POSITION}", code="invalid_field")
    conditions = parse_conditions(merged.get("conditions"))
    actions = parse_automation_actions(merged.get("actions"))
    _check_queues(conditions, actions)
    return {"name": name.strip(), "description": description, "enabled": merged["enabled"], "position": int(position),
            "conditions": [condition.as_json() for condition in conditions],
            "actions": [action.as_json() for action in actions]}


def _check_queues(conditions, actions) -> None:
    """Queues named by slug must exist when the automation is saved (a later rename fails its firings)."""
    named = {slug for c in conditions if c.field == "queue" for slug in c.value}
    named |= {a.params["queue"] for a in actions if a.type == "move"}
    known = set(db.session.scalars(sa.select(Queue.slug).where(Queue.slug.in_(named)))) if named else set()
    missing = sorted(named - known)
    if missing:
        raise ValidationError(f"no queue named {missing[0]!r}", code="invalid_automation")


def get_automation(automation_id: int) -> Automation:
    """Return one automation or raise NotFound."""
    automation = db.session.get(Automation, automation_id)
    if automation is None:
        raise NotFound(f"no automation {automation_id}")
    return automation


def list_automations() -> list[Automation]:
    """Every automation, in the order the scheduler runs them."""
    return list(db.session.scalars(sa.select(Automation).order_by(Automation.position, Automation.id)))


def firing_counts(automation_ids: list[int]) -> dict[int, tuple[int, object]]:
    """How often each automation fired, and when it last did: {id: (count, last fired_at)}."""
    if not automation_ids:
        return {}
    rows = db.session.execute(
        sa.select(AutomationFiring.automation_id, sa.func.count(), sa.func.max(AutomationFiring.fired_at))
        .where(AutomationFiring.automation_id.in_(automation_ids)).group_by(AutomationFiring.automation_id)).all()
    return {automation_id: (count, last) for automation_id, count, last in rows}


def create_automation(data, agent: Agent) -> Automation:
    """Create an automation (disabled unless `enabled` says otherwise)."""
    automation = Automation(**_clean(data, None))
    db.session.add(automation)
    db.session.flush()
    audit.record(agent, "automation.create", "automation", automation.id, after=snapshot(automation))
    db.session.commit()
    return automation


def update_automation(automation: Automation, data, agent: Agent) -> Automation:
    """Change an automation's fields (conversations it fired on keep their firings: no second one in a state)."""
    fields = _clean(data, automation)
    before = snapshot(automation)
    for key, value in fields.items():
        setattr(automation, key, value)
    automation.updated_at = utcnow()
    audit.record(agent, "automation.update", "automation", automation.id, before=before, after=snapshot(automation))
    db.session.commit()
    return automation


def delete_automation(automation: Automation, agent: Agent) -> None:
    """Delete an automation and its firing records (the conversations' explanations and audit keep them)."""
    audit.record(agent, "automation.delete", "automation", automation.id, before=snapshot(automation))
    db.session.execute(sa.delete(AutomationFiring).where(AutomationFiring.automation_id == automation.id))
    db.session.delete(automation)
    db.session.commit()


def install_defaults() -> list[Automation]:
    """Add the shipped automations that are missing (disabled); returns those added. Idempotent."""
    present = set(db.session.scalars(sa.select(Automation.key).where(Automation.key.in_(DEFAULTS))))
    added = [Automation(key=key, enabled=False, position=index, **fields)
             for index, (key, fields) in enumerate(DEFAULTS.items()) if key not in present]
    if added:
        db.session.add_all(added)
        try:
            db.session.commit()
        except sa.exc.IntegrityError:  # another process installed them at the same moment
            db.session.rollback()
            return []
    return added
