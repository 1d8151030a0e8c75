"""Making a bulk action and running it: batch by batch, one transaction each, resumable after a crash."""

import sqlalchemy as sa
from flask import current_app

import macros as library
from macros import MacroError
from workspace.errors import SwitchboardError
from workspace.extensions import db
from workspace.live import presence, signals
from workspace.live.changes import Changes, announce
from workspace.models import Agent, AuditEntry, BulkAction, BulkItem, Incident, utcnow
from workspace.services import audit
from workspace.services.responses.actions import apply_actions
from workspace.services.responses.bulk.progress import publish_progress, serialize_bulk
from workspace.services.responses.bulk.selection import (
    agent_names,
    check_body,
    choose_what,
    choose_which,
    load_conversations,
    skip_reason,
)
from workspace.services.responses.library import count_use
from workspace.services.supervision import incidents


def create_bulk(body, agent: Agent) -> BulkAction:
    """Record a bulk action and its conversations, then queue the job that applies it."""
    body = check_body(body)
    kind, template, actions, macro_id = choose_what(body, agent)
    ids, selection = choose_which(body, agent)
    bulk = BulkAction(agent_id=agent.id, kind=kind, macro_id=macro_id, template=template,
                      actions=[action.as_json() for action in actions], selection=selection,
                      include_locked=body.get("include_locked") is True, total=len(ids))
    db.session.add(bulk)
    db.session.flush()
    db.session.execute(sa.insert(BulkItem), [{"bulk_id": bulk.id, "conversation_id": conversation_id,
                                              "position": position, "result": "pending"}
                                             for position, conversation_id in enumerate(ids)])
    audit.record(agent, "bulk.create", "bulk", bulk.id,
                 after={"kind": kind, "macro_id": macro_id, "actions": bulk.actions, "total": len(ids),
                        "selection": selection})
    db.session.commit()
    announce(signals.bulk_started, bulk.id)
    return bulk


def resolve_incident(incident: Incident, agent: Agent, *, resolve_conversations: bool) -> dict:
    """End an incident; with resolve_conversations, also start a bulk action resolving its conversations still open.

    The bulk action (a status change run by the worker) reports `bulk.progress`, records each conversation's
    result and can be undone, like any other.

    Returns:
        The incident and the bulk action started (None when not asked for, or nothing is open).
    """
    incidents.resolve_incident(incident, agent, resolve_conversations=resolve_conversations)
    started = None
    if resolve_conversations and incidents.incident_conversation_ids(incident):
        started = create_bulk({"kind": "status", "status": "resolved", "incident_id": incident.id}, agent)
    return {"incident": incident, "bulk": started}


def run_bulk(bulk_id: int) -> dict:
    """Apply a bulk action to its pending conversations, batch by batch (the job's body; resumable).

    Returns:
        The bulk action's counts when it finished.
    """
    bulk = db.session.get(BulkAction, bulk_id)
    if bulk is None or bulk.state not in ("queued", "running"):
        return {"state": bulk.state if bulk else "missing"}
    agent = bulk.agent
    bulk.state = "running"
    db.session.commit()
    try:
        actions = library.parse_actions(bulk.actions, template=bulk.template)
    except MacroError as error:
        return _finish(bulk, "failed", str(error))
    while _run_batch(bulk, agent, actions):
        pass
    return _finish(bulk, "finished")


def _run_batch(bulk: BulkAction, agent: Agent, actions: list) -> bool:
    """Apply the actions to the next batch of pending conversations in one transaction; False when none are left."""
    ids = db.session.scalars(sa.select(BulkItem.conversation_id).where(
        BulkItem.bulk_id == bulk.id, BulkItem.result == "pending").order_by(BulkItem.position)
        .limit(current_app.config["BULK_BATCH"])).all()
    if not ids:
        return False
    conversations = load_conversations(ids)
    holders = presence.lock_holders(ids)
    names = agent_names(holders.values())
    results, applied_list = {}, []
    for conversation_id in ids:
        conversation = conversations.get(conversation_id)
        reason = skip_reason(conversation, agent, holders.get(conversation_id), bulk.include_locked, names)
        if reason is not None:
            results[conversation_id] = {"result": "skipped", "reason": reason}
            continue
        try:
            applied = apply_actions(conversation, bulk.template, actions, agent)
        except SwitchboardError as error:
            results[conversation_id] = {"result": "failed", "reason": error.message}
            continue
        if not applied.changes:
            results[conversation_id] = {"result": "skipped", "reason": "nothing to change"}
            continue
        results[conversation_id] = {"result": "done", "reason": None, "before": applied.undo,
                                    "changed_at": conversation.updated_at}
        applied_list.append(applied)
    done = len(applied_list)
    if bulk.macro_id and done:
        count_use(bulk.macro_id, agent, done)
    db.session.flush()  # conversations, and the replies, which get their ids
    changes = Changes(per_conversation=False)
    for applied in applied_list:
        if applied.reply is not None:
            results[applied.conversation.id]["message_id"] = applied.reply.id
        changes.add(applied.conversation, "updated", old_queue_id=applied.old_queue_id)
        applied.request_effects(changes)
    # Items and audit entries are written as two executemany statements, not one ORM object each.
    db.session.execute(sa.update(BulkItem), [{"bulk_id": bulk.id, "conversation_id": conversation_id, **result}
                                             for conversation_id, result in results.items()])
    if applied_list:
        db.session.execute(sa.insert(AuditEntry), [
            {"agent_id": agent.id, "action": "conversation.macro", "target_type": "conversation",
             "target_id": applied.conversation.id, "before": {"bulk_id": bulk.id},
             "after": {"bulk_id": bulk.id, "changes": applied.changes}} for applied in applied_list])
    outcomes = [result["result"] for result in results.values()]
    bulk.done += done
    bulk.skipped += outcomes.count("skipped")
    bulk.failed += outcomes.count("failed")
    db.session.commit()
    changes.publish()
    publish_progress(bulk)
    return True


def _finish(bulk: BulkAction, state: str, error: str | None = None) -> dict:
    bulk = db.session.get(BulkAction, bulk.id)
    bulk.state, bulk.error, bulk.finished_at = state, error, utcnow()
    db.session.commit()
    publish_progress(bulk)
    return serialize_bulk(bulk)
