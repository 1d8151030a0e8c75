"""What a bulk action has done: its progress event, its results, and how the API shows them."""

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

import macros as library
from workspace.errors import NotFound
from workspace.extensions import db
from workspace.live.publish import publish
from workspace.live.rooms import agent_room
from workspace.models import Agent, BulkAction, BulkItem, utcnow
from workspace.serializers import serialize_agent, timestamp


def publish_progress(bulk: BulkAction) -> None:
    """Tell the agent's consoles how far the bulk action has got."""
    publish("bulk.progress", serialize_bulk(bulk), agent_room(bulk.agent_id))


def undo_deadline(bulk: BulkAction):
    """Until when a bulk action can be undone."""
    return bulk.created_at + timedelta(seconds=current_app.config["BULK_UNDO_SECONDS"])


def get_bulk(bulk_id: int, agent: Agent) -> BulkAction:
    """A bulk action of the agent's own (admins see all)."""
    bulk = db.session.get(BulkAction, bulk_id)
    if bulk is None or (bulk.agent_id != agent.id and agent.role != "admin"):
        raise NotFound(f"no bulk action {bulk_id}")
    return bulk


def recent_bulks(agent: Agent, limit: int = 10) -> list[BulkAction]:
    """The agent's latest bulk actions, newest first (the console shows them after a reload)."""
    return db.session.scalars(sa.select(BulkAction).where(BulkAction.agent_id == agent.id)
                              .order_by(BulkAction.id.desc()).limit(limit)).all()


def bulk_items(bulk: BulkAction, *, result: str | None, after: int, limit: int) -> list[BulkItem]:
    """A page of a bulk action's per-conversation results, in its order."""
    query = sa.select(BulkItem).where(BulkItem.bulk_id == bulk.id, BulkItem.position > after)
    if result:
        query = query.where(BulkItem.result == result)
    return db.session.scalars(query.order_by(BulkItem.position).limit(limit)).all()


def serialize_bulk(bulk: BulkAction) -> dict:
    """A bulk action's progress and outcome (the API's and `bulk.progress`'s shape)."""
    undoable = bulk.state == "finished" and utcnow() <= undo_deadline(bulk) and bulk.done > 0 and any(
        action["type"] not in library.SENDING for action in bulk.actions)
    return {"id": bulk.id, "kind": bulk.kind, "macro_id": bulk.macro_id, "state": bulk.state, "total": bulk.total,
            "done": bulk.done, "skipped": bulk.skipped, "failed": bulk.failed,
            "processed": bulk.done + bulk.skipped + bulk.failed, "error": bulk.error,
            "actions": [library.describe(library.Action(a["type"], {k: v for k, v in a.items() if k != "type"}))
                        for a in bulk.actions],
            "selection": bulk.selection, "agent": serialize_agent(bulk.agent) if bulk.agent else None,
            "created_at": timestamp(bulk.created_at), "finished_at": timestamp(bulk.finished_at),
            "undone_at": timestamp(bulk.undone_at), "undoable": undoable,
            "undo_until": timestamp(undo_deadline(bulk)) if undoable else None}


def serialize_item(item: BulkItem) -> dict:
    """One conversation's result in a bulk action."""
    return {"conversation_id": item.conversation_id, "result": item.result, "reason": item.reason,
            "message_id": item.message_id}
