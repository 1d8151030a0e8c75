"""Bulk actions: a macro or one change applied to many conversations by a resumable job, with undo.

The conversations are fixed when the bulk action is made (one BulkItem each,
pending). The job works through the pending ones in batches: each batch is
one transaction that applies the actions to every conversation (all or
nothing per conversation: one that refuses is marked failed with the reason
and left untouched), marks the items, and stores the replies; then it
publishes the batch's events, enqueues its replies' deliveries in one Redis
round-trip and reports `bulk.progress`. A worker killed mid-batch loses that
uncommitted batch and nothing else: the retried job finds those items still
pending and does them once; no reply is stored, hence sent, twice.
"""

from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from rq import Retry

import macros as library
from macros import MacroError

from ..broker import job_queue
from ..errors import NotFound, SwitchboardError, ValidationError
from ..extensions import db, socketio
from ..models import Agent, AuditEntry, BulkAction, BulkItem, Conversation, Queue, utcnow
from ..serializers import serialize_agent
from . import audit, events, presence
from .classifier import corrections_added
from .conversations import can_see
from .macro_actions import apply_actions, undo_changes
from .macros import count_use, get_macro
from .queues import ORDER, assignee_filter, queue_filter, visible_queue_ids
from .replies import enqueue_deliveries

RUN_JOB = "macros.jobs.run_bulk"
UNDO_JOB = "macros.jobs.undo_bulk"
# A batch of 10,000 conversations takes seconds; this bounds a stuck job.
JOB_TIMEOUT = 1800
JOB_RETRY = Retry(max=3, interval=[5, 30, 120])
# The dry run shows the rendered reply and changes of this many conversations.
SAMPLE_SIZE = 3
# Dry-run lists of locked and failing conversations stop at this many.
LIST_LIMIT = 50


# ---------- what to do

def _macro_kind(body: dict, agent: Agent) -> tuple[str, list]:
    macro_id = body.get("macro_id")
    if isinstance(macro_id, bool) or not isinstance(macro_id, int):
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


def _what(body: dict, agent: Agent) -> tuple[str, str, list, int | None]:
    """The kind, reply template, validated actions and macro id a request asks for."""
    kind = body.get("kind")
    if kind not in KINDS:
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


def _which(body: dict, agent: Agent) -> tuple[list[int], dict]:
    """The conversation ids chosen, in order: listed one by one, or all matching a queue's filter."""
    limit = current_app.config["BULK_MAX_CONVERSATIONS"]
    ids, chosen = body.get("conversation_ids"), body.get("filter")
    if (ids is None) == (chosen is None):
        raise ValidationError("conversation_ids or filter: choose conversations one way", code="invalid_field")
    if ids is not None:
        if not isinstance(ids, list) or not ids or len(ids) > limit \
                or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
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
        raise ValidationError(f"filter.queue: no queue named {chosen.get('queue')!r}", code="invalid_field")
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


def _load(conversation_ids: list[int]) -> dict[int, Conversation]:
    rows = db.session.scalars(sa.select(Conversation).where(Conversation.id.in_(conversation_ids)).options(
        so.joinedload(Conversation.author), so.joinedload(Conversation.channel),
        so.joinedload(Conversation.queue), so.joinedload(Conversation.assignee))).unique().all()
    return {conversation.id: conversation for conversation in rows}


def _skip_reason(conversation: Conversation | None, agent: Agent, holder: int | None, include_locked: bool,
                 names: dict[int, str]) -> str | None:
    """Why a conversation is left alone, or None to go ahead."""
    if conversation is None or not can_see(agent, conversation):
        return "no longer in your queues"
    if conversation.status == "new":
        return "still being routed"
    if holder is not None and holder != agent.id and not include_locked:
        return f"{names.get(holder, 'another agent')} is replying to it"
    return None


def _names(agent_ids) -> dict[int, str]:
    ids = set(agent_ids)
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(Agent.id, Agent.name).where(Agent.id.in_(ids))).all())


# ---------- dry run

def dry_run(body, agent: Agent) -> dict:
    """What a bulk action would do, with nothing written: how many change, VIPs, locks, failures, a sample.

    Every conversation really goes through the actions, in a transaction that is rolled back.
    """
    body = _body(body)
    kind, template, actions, _ = _what(body, agent)
    ids, _ = _which(body, agent)
    include_locked = body.get("include_locked") is True
    holders = presence.lock_holders(ids)
    names = _names(holders.values())
    summary = {"kind": kind, "total": len(ids), "will_change": 0, "unchanged": 0, "vip": 0, "locked": [],
               "skipped": 0, "failing": 0, "failures": [], "sample": []}
    try:
        for start in range(0, len(ids), current_app.config["BULK_BATCH"]):
            chunk = ids[start:start + current_app.config["BULK_BATCH"]]
            conversations = _load(chunk)
            for conversation_id in chunk:
                conversation = conversations.get(conversation_id)
                holder = holders.get(conversation_id)
                if holder is not None and holder != agent.id and len(summary["locked"]) < LIST_LIMIT:
                    summary["locked"].append({"conversation_id": conversation_id,
                                              "agent": {"id": holder, "name": names.get(holder)}})
                if _skip_reason(conversation, agent, holder, include_locked, names):
                    summary["skipped"] += 1
                    continue
                if "vip" in (conversation.author.tags or []):
                    summary["vip"] += 1
                try:
                    applied = apply_actions(conversation, template, actions, agent)
                except SwitchboardError as error:
                    summary["failing"] += 1
                    if len(summary["failures"]) < LIST_LIMIT:
                        summary["failures"].append({"conversation_id": conversation_id, "reason": error.message})
                    continue
                summary["will_change" if applied.changes else "unchanged"] += 1
                if applied.changes and len(summary["sample"]) < SAMPLE_SIZE:
                    summary["sample"].append({"conversation_id": conversation_id, "subject": conversation.subject,
                                              "author": conversation.author.name or conversation.author.handle,
                                              "reply": applied.reply_text, "changes": applied.changes})
            db.session.rollback()
    finally:
        db.session.rollback()
    summary["locked_count"] = sum(1 for holder in holders.values() if holder != agent.id)
    return summary


# ---------- making and running

def _body(body) -> dict:
    if not isinstance(body, dict):
        raise ValidationError("body: a JSON object with kind and conversation_ids or filter", code="invalid_field")
    return body


def create_bulk(body, agent: Agent) -> BulkAction:
    """Record a bulk action and its conversations, then queue the job that applies it."""
    body = _body(body)
    kind, template, actions, macro_id = _what(body, agent)
    ids, selection = _which(body, agent)
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
    _enqueue(RUN_JOB, bulk.id, "run")
    return bulk


def _enqueue(job: str, bulk_id: int, what: str) -> None:
    job_queue().enqueue_call(job, args=(bulk_id,), job_id=f"bulk-{what}-{bulk_id}", timeout=JOB_TIMEOUT,
                             retry=JOB_RETRY, result_ttl=3600, failure_ttl=7 * 86400)


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
    conversations = _load(ids)
    holders = presence.lock_holders(ids)
    names = _names(holders.values())
    results, applied_list, moved = {}, [], False
    for conversation_id in ids:
        conversation = conversations.get(conversation_id)
        reason = _skip_reason(conversation, agent, holders.get(conversation_id), bulk.include_locked, names)
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
        moved = moved or ("queue" in applied.undo and conversation.routed_at is not None)
    done = len(applied_list)
    if bulk.macro_id and done:
        count_use(bulk.macro_id, agent, done)
    db.session.flush()  # conversations, and the replies, which get their ids
    changes = events.Changes(per_conversation=False)
    replies = []
    for applied in applied_list:
        if applied.reply is not None:
            results[applied.conversation.id]["message_id"] = applied.reply.id
            replies.append(applied.reply.id)
        changes.add(applied.conversation, "updated", old_queue_id=applied.old_queue_id)
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
    enqueue_deliveries(replies)
    if moved:
        corrections_added()
    _progress(bulk)
    return True


def _finish(bulk: BulkAction, state: str, error: str | None = None) -> dict:
    bulk = db.session.get(BulkAction, bulk.id)
    bulk.state, bulk.error, bulk.finished_at = state, error, utcnow()
    db.session.commit()
    _progress(bulk)
    return serialize_bulk(bulk)


def _progress(bulk: BulkAction) -> None:
    """Tell the agent's consoles how far the bulk action has got."""
    socketio.emit("bulk.progress", serialize_bulk(bulk), to=events.agent_room(bulk.agent_id))


# ---------- undo

def undo_deadline(bulk: BulkAction):
    """Until when a bulk action can be undone."""
    return bulk.created_at + timedelta(seconds=current_app.config["BULK_UNDO_SECONDS"])


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
    _enqueue(UNDO_JOB, bulk.id, "undo")
    _progress(bulk)
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
        conversations = _load([item.conversation_id for item in items])
        changes = events.Changes()
        for item in items:
            conversation = conversations.get(item.conversation_id)
            if conversation is None or conversation.updated_at != item.changed_at:
                item.reason = "not undone: changed since by someone else"
                continue
            if not item.before:
                continue
            before = dict(item.before)
            undo_changes(conversation, before)
            item.result, item.reason = "undone", None
            db.session.add(AuditEntry(agent_id=agent.id, action="conversation.undo", target_type="conversation",
                                      target_id=conversation.id, before={"bulk_id": bulk_id}, after=before))
            db.session.flush()
            changes.add(conversation, "updated")
        db.session.commit()
        changes.publish()
        _progress(bulk)
    bulk = db.session.get(BulkAction, bulk_id)
    bulk.state, bulk.undone_at = "undone", utcnow()
    db.session.commit()
    _progress(bulk)
    return serialize_bulk(bulk)


# ---------- reading

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
            "created_at": _iso(bulk.created_at), "finished_at": _iso(bulk.finished_at),
            "undone_at": _iso(bulk.undone_at), "undoable": undoable,
            "undo_until": _iso(undo_deadline(bulk)) if undoable else None}


def serialize_item(item: BulkItem) -> dict:
    """One conversation's result in a bulk action."""
    return {"conversation_id": item.conversation_id, "result": item.result, "reason": item.reason,
            "message_id": item.message_id}


def _iso(moment) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None

