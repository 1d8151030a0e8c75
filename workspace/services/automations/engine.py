"""Running automations: the scheduler's pass in batches, one firing per conversation and state, and the dry run.

A pass reads each enabled automation's candidates a batch at a time (what SQL
can narrow: status, queue, priority, SLA, assignee, age, the customer's wait),
checks every condition in Python, and fires on each match in its own short
transaction. The firing row, unique on (automation, conversation, state), is
written before the actions: a second scheduler, a retried job or the next tick
that reaches the same state loses on that key and does nothing. On PostgreSQL
the conversation's row is locked first and read again, so a pass that waited
sees what the first one changed.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError

from macros import Action
from workspace.errors import ValidationError
from workspace.extensions import db
from workspace.live import signals
from workspace.live.changes import Changes
from workspace.live.publish import publish
from workspace.live.rooms import agent_room, queue_room
from workspace.models import (
    Automation,
    AutomationFiring,
    Conversation,
    Macro,
    Message,
    Priority,
    Queue,
    SatisfactionRating,
    utcnow,
)
from workspace.serializers import timestamp
from workspace.services import audit
from workspace.services.automations.rules import (
    Condition,
    Facts,
    describe_action,
    matches,
    parse_automation_actions,
    parse_conditions,
    state_of,
    statuses_of,
)
from workspace.services.responses.actions import apply_actions
from workspace.services.responses.library import actions_of

# Conversations read per query of one automation's candidates.
BATCH = 500
# Firings kept in a conversation's explanation (the firings table keeps them all).
MAX_EXPLAINED = 20
# A dry run lists this many matches and reads at most SCAN candidates.
DRY_RUN_LIMIT = 50
DRY_RUN_SCAN = 5000


@dataclass(frozen=True)
class SystemActor:
    """Whom automations act as: no agent's row (audited as the system), named in templates as Switchboard."""

    id: None = None
    name: str = "Switchboard"
    email: None = None
    role: str = "admin"


SYSTEM = SystemActor()


def _hours_ago(now: datetime, hours: float) -> datetime:
    return now - timedelta(hours=hours)


def _narrowing(condition: Condition, now: datetime):
    """The SQL clause a condition narrows candidates with, or None when only Python can check it."""
    field, op, value = condition.field, condition.op, condition.value
    column = {"queue": Conversation.queue_id, "priority": Conversation.priority, "sla": Conversation.sla_status,
              "age_hours": Conversation.created_at, "hours_since_customer": Conversation.last_message_at}.get(field)
    if field == "assigned":
        return Conversation.assignee_id.is_not(None) if value else Conversation.assignee_id.is_(None)
    if field in ("age_hours", "hours_since_customer"):
        return column <= _hours_ago(now, value) if op == "gte" else column > _hours_ago(now, value)
    if column is None:
        return None  # status (see statuses_of), tags, hours_since_agent
    if field == "queue":
        value = sa.select(Queue.id).where(Queue.slug.in_(value)).scalar_subquery()
    elif field == "priority":
        value = [int(Priority.parse(level)) for level in value]
    return column.in_(value) if op == "in" else sa.or_(column.is_(None), column.not_in(value))


def _candidates(conditions: list[Condition], now: datetime, after_id: int, limit: int) -> list[Conversation]:
    clauses = [Conversation.status.in_(statuses_of(conditions)), Conversation.id > after_id]
    clauses += [clause for clause in (_narrowing(c, now) for c in conditions) if clause is not None]
    return list(db.session.scalars(sa.select(Conversation).where(*clauses).order_by(Conversation.id).limit(limit)
                                   .options(so.joinedload(Conversation.queue))).unique())


def facts_of(conversation_ids: list[int]) -> dict[int, Facts]:
    """What conditions read beyond the columns, for a batch: when an agent last replied (not the system), and
    the customer's satisfaction score."""
    if not conversation_ids:
        return {}
    replied = dict(db.session.execute(
        sa.select(Message.conversation_id, sa.func.max(Message.created_at))
        .where(Message.conversation_id.in_(conversation_ids), Message.direction == "outbound",
               Message.agent_id.is_not(None))
        .group_by(Message.conversation_id)).all())
    scores = dict(db.session.execute(sa.select(SatisfactionRating.conversation_id, SatisfactionRating.score).where(
        SatisfactionRating.conversation_id.in_(conversation_ids))).all())
    return {conversation_id: Facts(last_agent_at=replied.get(conversation_id), satisfaction=scores.get(conversation_id))
            for conversation_id in conversation_ids}


def _fired_states(automation_id: int, conversation_ids: list[int]) -> set[tuple[int, str]]:
    return set(db.session.execute(sa.select(AutomationFiring.conversation_id, AutomationFiring.state).where(
        AutomationFiring.automation_id == automation_id,
        AutomationFiring.conversation_id.in_(conversation_ids))).all())


def _matches_in(conditions, now, after_id, limit):
    """One batch of candidates: (conversations read, [(conversation, state) of those that match])."""
    batch = _candidates(conditions, now, after_id, limit)
    facts = facts_of([conversation.id for conversation in batch])
    return batch, [(conversation, state_of(conditions, conversation, facts[conversation.id]))
                   for conversation in batch if matches(conditions, conversation, facts[conversation.id], now)]


def run_automations(now: datetime | None = None) -> dict:
    """Fire every enabled automation on every conversation that meets its conditions in a state not fired yet.

    Runs periodically on the scheduler; safe to run twice at once (see the module's docstring).

    Returns:
        Counts: automations looked at, firings applied, firings refused (kept with their reason).
    """
    now = now or utcnow()
    automations = db.session.scalars(sa.select(Automation).where(Automation.enabled.is_(True))
                                     .order_by(Automation.position, Automation.id)).all()
    plans = [(automation.id, parse_conditions(automation.conditions)) for automation in automations]
    db.session.rollback()
    totals = {"automations": len(plans), "applied": 0, "failed": 0}
    for automation_id, conditions in plans:
        after_id = 0
        while True:
            batch, found = _matches_in(conditions, now, after_id, BATCH)
            if not batch:
                break
            after_id = batch[-1].id
            fired = _fired_states(automation_id, [conversation.id for conversation, _ in found]) if found else set()
            due = [conversation.id for conversation, state in found if (conversation.id, state) not in fired]
            db.session.rollback()  # end the read; each firing is its own transaction
            for conversation_id in due:
                firing = fire(automation_id, conversation_id, now)
                if firing is not None:
                    totals[firing.result] += 1
    return totals


def fire(automation_id: int, conversation_id: int, now: datetime) -> AutomationFiring | None:
    """Fire one automation on one conversation if it still matches in a state it has not fired in; commits.

    Returns:
        The firing (applied, or failed with the refusal), or None when it did not fire.
    """
    conversation = db.session.scalar(sa.select(Conversation).where(Conversation.id == conversation_id)
                                     .with_for_update().execution_options(populate_existing=True))
    automation = db.session.get(Automation, automation_id, populate_existing=True)
    if conversation is None or automation is None or not automation.enabled:
        db.session.rollback()
        return None
    conditions = parse_conditions(automation.conditions)
    facts = facts_of([conversation_id])[conversation_id]
    if not matches(conditions, conversation, facts, now):
        db.session.rollback()
        return None
    firing = AutomationFiring(automation_id=automation_id, conversation_id=conversation_id,
                              state=state_of(conditions, conversation, facts), fired_at=now, changes=[])
    db.session.add(firing)
    try:
        db.session.flush()
    except IntegrityError:  # fired in this state already, by another pass
        db.session.rollback()
        return None
    changes = Changes()
    old_queue_id = conversation.queue_id
    try:
        template, actions, notices = _plan(parse_automation_actions(automation.actions), conversation)
        applied = apply_actions(conversation, template, actions, SYSTEM)
    except ValidationError as error:
        firing.result, firing.error = "failed", error.message
    else:
        firing.changes = [*applied.changes, *notices]
        applied.request_effects(changes)
    _record(automation, conversation, firing, now)
    db.session.flush()
    changes.add(conversation, "updated", old_queue_id=old_queue_id)
    changes.request(signals.automations_fired, firing.id)
    db.session.commit()
    changes.publish()
    if firing.result == "applied":
        _notify(automation, conversation, firing)
    return firing


def _plan(actions: list[Action], conversation: Conversation) -> tuple[str, list[Action], list[dict]]:
    """Turn an automation's actions into the macros' (a reply's template, a macro's actions, the queue's
    lead by id), plus what only the record shows (notifications, an assignment to a lead there is not)."""
    template, planned, notices = "", [], []
    for action in actions:
        kind, params = action.type, action.params
        if kind == "reply":
            template = params["text"]
            planned.append(Action("reply"))
        elif kind == "macro":
            macro = db.session.get(Macro, params["macro_id"])
            if macro is None:
                raise ValidationError(f"macro {params['macro_id']}: no such macro", code="invalid_automation")
            template = macro.template
            # "assign to me" means nobody when no agent applies it.
            planned += [step for step in actions_of(macro) if step.as_json() != {"type": "assign", "assignee": "me"}]
        elif kind == "assign" and params["assignee"] == "lead":
            lead_id = conversation.queue.lead_id if conversation.queue else None
            if lead_id is None:
                notices.append({"action": "assign", "description": describe_action(action),
                                "skipped": "the queue has no lead"})
            else:
                planned.append(Action("assign", {"assignee": lead_id}))
        elif kind == "notify":
            notices.append({"action": "notify", "description": describe_action(action), "target": params["target"]})
        else:
            planned.append(action)
    return template, planned, notices


def _record(automation: Automation, conversation: Conversation, firing: AutomationFiring, now: datetime) -> None:
    """Note the firing in the conversation's explanation and in the audit log."""
    entry = {"automation_id": automation.id, "name": automation.name, "at": timestamp(now), "result": firing.result,
             "changes": [change["description"] for change in firing.changes], "error": firing.error}
    explanation = dict(conversation.explanation or {})
    explanation["automations"] = [*explanation.get("automations", []), entry][-MAX_EXPLAINED:]
    conversation.explanation = explanation
    conversation.updated_at = now
    audit.record(None, "automation.fire", "conversation", conversation.id, before={"automation_id": automation.id},
                 after={"automation": automation.name, "result": firing.result, "changes": firing.changes,
                        "error": firing.error})


def _notify(automation: Automation, conversation: Conversation, firing: AutomationFiring) -> None:
    """Send the firing's "notify" events: to the assignee's room (or the queue's, when nobody has it)."""
    for change in firing.changes:
        if change["action"] != "notify":
            continue
        room = (agent_room(conversation.assignee_id) if change["target"] == "assignee" and conversation.assignee_id
                else queue_room(conversation.queue_id))
        publish("automation.notify", {"automation_id": automation.id, "automation": automation.name,
                                      "conversation_id": conversation.id, "subject": conversation.subject}, room)


def dry_run(conditions_raw, actions_raw, automation_id: int | None = None, now: datetime | None = None) -> dict:
    """What an automation (saved or a draft) would fire on now, with nothing written.

    Returns:
        {"matches": up to DRY_RUN_LIMIT conversations, each with whether it already fired in this state,
         "count": how many match among those read, "scanned": how many were read, "complete": whether that
         was all of them, "actions": what each firing would do}.
    """
    now = now or utcnow()
    conditions = parse_conditions(conditions_raw)
    actions = parse_automation_actions(actions_raw)
    after_id, scanned, found = 0, 0, []
    while scanned < DRY_RUN_SCAN:
        batch, matched = _matches_in(conditions, now, after_id, min(BATCH, DRY_RUN_SCAN - scanned))
        if not batch:
            break
        scanned, after_id = scanned + len(batch), batch[-1].id
        found += matched
    fired = _fired_states(automation_id, [c.id for c, _ in found[:DRY_RUN_LIMIT]]) if automation_id else set()
    listed = [{"id": c.id, "subject": c.subject, "status": c.status, "queue": c.queue.slug if c.queue else None,
               "priority": Priority(c.priority).label, "already_fired": (c.id, state) in fired}
              for c, state in found[:DRY_RUN_LIMIT]]
    complete = scanned < DRY_RUN_SCAN or not _candidates(conditions, now, after_id, 1)
    db.session.rollback()
    return {"matches": listed, "count": len(found), "scanned": scanned, "complete": complete,
            "actions": [describe_action(action) for action in actions]}
