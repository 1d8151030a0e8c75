"""Undoing a bulk action's non-sending changes, except where someone changed a conversation since."""

import sqlalchemy as sa
from flask import current_app

from workspace.errors import NotFound, SwitchboardError
from workspace.extensions import db
from workspace.live import signals
from workspace.live.changes import Changes, announce
from workspace.models import Agent, AuditEntry, BulkAction, BulkItem, utcnow
from workspace.services import audit
from workspace.services.responses.actions import undo_changes
from workspace.services.responses.bulk.progress import publish_progress, serialize_bulk, undo_deadline
from workspace.services.responses.bulk.selection import load_conversations


def request_undo(bulk: BulkAction, agent: Agent) -> BulkAction:
    """Queue the undo of a finished bulk action's non-sending changes (its owner, within the window)."""
    if bulk.agent_id != agent.id and agent.role != "admin":
        raise NotFound(f"no bulk action {bulk.id}")
    if bulk.state != "finished":
        raise SwitchboardError(f"only a finished bulk action can be undone (this one is {bulk.state})",
                               code="not_undoable", status=409)
    if utcnow() > undo_deadline(bulk):
        raise SwitchboardError("the undo window has passed", code="undo_expired", status=409)
    bulk.state = "undoing"
    audit.record(agent, "bulk.undo", "bulk", bulk.id, before={"state": "finished"}, after={"state": "undoing"})
    db.session.commit()
    announce(signals.bulk_undo_requested, bulk.id)
    publish_progress(bulk)
    return bulk


def undo_bulk(bulk_id: int) -> dict:
    """Put back the fields each done conversation had, batch by batch; conversations changed since are left.

    Each undone item becomes "undone"; one changed since stays "done" with the
    reason, so a retried undo skips what it already did.
    """
    bulk = db.session.get(BulkAction, bulk_id)
    if bulk is None or bulk.state != "undoing":
        return {"state": bulk.state if bulk else "missing"}
    agent = bulk.agent
    last = -1
    while True:
        items = db.session.scalars(sa.select(BulkItem).where(
            BulkItem.bulk_id == bulk_id, BulkItem.result == "done", BulkItem.position > last)
            .order_by(BulkItem.position).limit(current_app.config["BULK_BATCH"])).all()
        if not items:
            break
        last = items[-1].position
        conversations = load_conversations([item.conversation_id for item in items])
        changes, entries = Changes(per_conversation=False), []
        with db.session.no_autoflush:
            for item in items:
                conversation = conversations.get(item.conversation_id)
                if conversation is None or conversation.updated_at != item.changed_at:
                    item.reason = "not undone: changed since by someone else"
                    continue
                if not item.before:
                    continue
                undo_changes(conversation, item.before)
                item.result, item.reason = "undone", None
                entries.append({"agent_id": agent.id, "action": "conversation.undo", "target_type": "conversation",
                                "target_id": conversation.id, "before": {"bulk_id": bulk_id}, "after": item.before})
                changes.add(conversation, "updated")
        if entries:
            db.session.execute(sa.insert(AuditEntry), entries)
        db.session.commit()
        changes.publish()
        publish_progress(bulk)
    bulk = db.session.get(BulkAction, bulk_id)
    bulk.state, bulk.undone_at = "undone", utcnow()
    db.session.commit()
    publish_progress(bulk)
    return serialize_bulk(bulk)
