"""Merging a duplicate conversation into another, splitting one in two, and undoing either: audited, announced.

A merge moves every message of the duplicate (the source) into the target, joins
their tags, keeps the more urgent priority and the earlier customer wait (the SLA
clocks re-plan from it), takes the source's assignee if the target has none, and
resolves the source with `merged_into_id` pointing at the target. Posts that thread
into the duplicate later are moved on by routing (`follow_merges`), so they follow,
and the merge record lists them too: an undo moves every one of them back.

A split moves a message and every later one (or exactly a selection of messages)
into a new conversation (same customer, channel, queue and tags), which routing
then scores as any new one.
"""

from datetime import datetime

import sqlalchemy as sa

from workspace.errors import NotFound, SwitchboardError, ValidationError
from workspace.extensions import db
from workspace.live.changes import Changes
from workspace.models import ACTIVE_STATUSES, Agent, Conversation, ConversationMerge, Message, is_id, utcnow
from workspace.services import audit
from workspace.services.service_levels import clocks

# What a merge may change on the target, kept as it was so an undo can tell what is still the merge's doing.
TARGET_FIELDS = ("tags", "assignee_id", "priority", "waiting_since", "status")


class MergeConflict(SwitchboardError):
    """The conversations are not in a state that allows this (already merged, or already undone)."""

    status = 409
    code = "merge_conflict"


def _lock(ids: list[int]) -> None:
    """Lock the conversations in id order (PostgreSQL; SQLite's write lock serializes writers already)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(Conversation.id).where(Conversation.id.in_(sorted(ids)))
                           .order_by(Conversation.id).with_for_update())


def _snapshot(conversation: Conversation) -> dict:
    return {name: (value.isoformat() if isinstance(value, datetime) else value)
            for name in TARGET_FIELDS for value in [getattr(conversation, name)]}


def _message_ids(conversation_id: int, from_id: int = 0) -> list[int]:
    return list(db.session.scalars(sa.select(Message.id).where(Message.conversation_id == conversation_id,
                                                               Message.id >= from_id).order_by(Message.id)))


def _move(message_ids: list[int], to: int) -> None:
    if message_ids:
        db.session.execute(sa.update(Message).where(Message.id.in_(message_ids)).values(conversation_id=to))


def _refresh_last_message(conversation: Conversation) -> None:
    latest = db.session.scalar(sa.select(sa.func.max(Message.created_at)).where(
        Message.conversation_id == conversation.id, Message.direction == "inbound"))
    if latest is not None:
        conversation.last_message_at = latest


def _finish(agent: Agent | None, action: str, record: ConversationMerge, conversations: list[Conversation],
            after: dict) -> ConversationMerge:
    """Sync the clocks, audit, commit and announce both conversations."""
    now, policies, changes = utcnow(), clocks.Policies(), Changes()
    for conversation in conversations:
        conversation.updated_at = now
        clocks.sync(conversation, now, policies)
    audit.record(agent, action, "conversation_merge", record.id, after=after)
    db.session.flush()
    for conversation in conversations:
        changes.add(conversation, "updated")
    db.session.commit()
    changes.publish()
    return record


def merge(source: Conversation, target: Conversation, agent: Agent | None) -> ConversationMerge:
    """Merge a duplicate (source) into target; see the module's docstring for what is reconciled."""
    if source.id == target.id:
        raise ValidationError("into: a conversation cannot be merged into itself", code="invalid_field")
    if source.private != target.private or (source.private and (source.channel_id, source.author_id)
                                            != (target.channel_id, target.author_id)):
        # A direct message and a public post are never one thread: a reply to one would reach the other's audience.
        raise ValidationError("into: a private conversation merges only with a private one of the same customer "
                              "on the same channel", code="private_mismatch")
    _lock([source.id, target.id])
    db.session.refresh(source)
    db.session.refresh(target)
    if source.merged_into_id is not None:
        raise MergeConflict(f"conversation {source.id} is already merged into {source.merged_into_id}")
    if target.merged_into_id is not None:
        raise ValidationError(f"into: conversation {target.id} was merged into {target.merged_into_id}; "
                              "merge into that one", code="merged_target")
    moved = _message_ids(source.id)
    record = ConversationMerge(kind="merge", source_id=source.id, target_id=target.id,
                               agent_id=agent.id if agent else None, message_ids=moved,
                               before={"target": _snapshot(target), "source": {
                                   "status": source.status, "tags": list(source.tags or [])}})
    db.session.add(record)
    _move(moved, target.id)
    target.tags = sorted(set(target.tags or ()) | set(source.tags or ()))
    target.assignee_id = target.assignee_id or source.assignee_id
    target.priority = min(target.priority, source.priority)
    waits = [w for w in (target.waiting_since, source.waiting_since) if w is not None]
    target.waiting_since = min(waits) if waits else None
    if source.status in ACTIVE_STATUSES and target.status not in ACTIVE_STATUSES:
        target.status = "open"  # the duplicate still owed the customer an answer
    target.last_message_at = max(target.last_message_at, source.last_message_at)
    source.status, source.merged_into_id, source.resolved_at = "resolved", target.id, utcnow()
    record.before = {**record.before, "merged": _snapshot(target)}
    db.session.flush()
    return _finish(agent, "conversation.merge", record, [source, target],
                   {"source": source.id, "target": target.id, "messages": len(moved)})


def split(conversation: Conversation, message_id, agent: Agent) -> ConversationMerge:
    """Move a message and every later one into a new conversation, to be worked (and routed) on its own."""
    _lock([conversation.id])
    message = db.session.get(Message, message_id) if is_id(message_id) else None
    if message is None or message.conversation_id != conversation.id:
        raise ValidationError("message_id: not a message of this conversation", code="invalid_field")
    return _split_off(conversation, _message_ids(conversation.id, message.id), agent, "message_id")


def split_messages(conversation: Conversation, message_ids: list, agent: Agent) -> ConversationMerge:
    """Move exactly the chosen messages (a selection in the thread, in any order) together into one new
    conversation; one record, so one undo takes them all back."""
    _lock([conversation.id])
    chosen = sorted({i for i in message_ids if is_id(i)})
    found = _message_ids(conversation.id) if chosen else []
    if not chosen or len(chosen) != len(set(message_ids)) or not set(chosen) <= set(found):
        raise ValidationError("message_ids: not all messages of this conversation", code="invalid_field")
    return _split_off(conversation, chosen, agent, "message_ids")


def _split_off(conversation: Conversation, moved: list[int], agent: Agent, field: str) -> ConversationMerge:
    """Move the messages (ids in order, all the conversation's) into a new conversation: audited, undoable."""
    if conversation.merged_into_id is not None:
        raise MergeConflict(f"conversation {conversation.id} is merged into {conversation.merged_into_id}")
    if len(moved) == len(_message_ids(conversation.id)):
        raise ValidationError(f"{field}: splitting off every message would leave nothing behind",
                              code="invalid_field")
    messages = db.session.scalars(sa.select(Message).where(Message.id.in_(moved)).order_by(Message.id)).all()
    first = messages[0]
    # The customer waits since the first of their messages after the last reply moved (none: not waiting); an
    # internal note answers nobody.
    waiting = None
    for message in messages:
        if message.direction == "outbound":
            waiting = None
        elif message.direction == "inbound" and waiting is None:
            waiting = message.created_at
    now = utcnow()
    new = Conversation(channel_id=conversation.channel_id, author_id=conversation.author_id,
                       queue_id=conversation.queue_id, routed_queue_id=conversation.routed_queue_id,
                       status="open", priority=conversation.priority, private=conversation.private,
                       subject=first.subject or conversation.subject, tags=list(conversation.tags or []),
                       created_at=now, updated_at=now, last_message_at=first.created_at, waiting_since=waiting)
    db.session.add(new)
    db.session.flush()
    record = ConversationMerge(kind="split", source_id=conversation.id, target_id=new.id, agent_id=agent.id,
                               message_ids=moved, before={"target": {}, "source": {}})
    db.session.add(record)
    _move(moved, new.id)
    _refresh_last_message(conversation)
    _refresh_last_message(new)
    db.session.flush()
    return _finish(agent, "conversation.split", record, [conversation, new],
                   {"source": conversation.id, "target": new.id, "messages": len(moved)})


def _restore(target: Conversation, before: dict, merged: dict) -> None:
    """Put back each field the merge changed on the target and nobody changed since (later changes stand)."""
    now = _snapshot(target)
    for name in TARGET_FIELDS:
        if now[name] == merged[name] and merged[name] != before[name]:
            value = before[name]
            setattr(target, name, datetime.fromisoformat(value) if name == "waiting_since" and value else value)


def get_record(record_id: int) -> ConversationMerge:
    """Return a merge or split record, or raise NotFound."""
    record = db.session.get(ConversationMerge, record_id) if is_id(record_id) else None
    if record is None:
        raise NotFound(f"no merge or split {record_id}")
    return record


def undo(record: ConversationMerge, agent: Agent) -> ConversationMerge:
    """Take a merge or split back: every message it moved (and every post that followed) returns to the source."""
    _lock([record.source_id, record.target_id])
    claimed = db.session.execute(sa.update(ConversationMerge).where(
        ConversationMerge.id == record.id, ConversationMerge.undone_at.is_(None)).values(
        undone_at=utcnow(), undone_by_id=agent.id)).rowcount
    if claimed != 1:
        db.session.rollback()
        raise MergeConflict(f"{record.kind} {record.id} is already undone")
    db.session.refresh(record)
    source, target = db.session.get(Conversation, record.source_id), db.session.get(Conversation, record.target_id)
    _move(record.message_ids, source.id)
    if record.kind == "merge":
        _restore(target, record.before["target"], record.before["merged"])
        source.status, source.merged_into_id, source.resolved_at = record.before["source"]["status"], None, None
    else:  # the split-off conversation is emptied: it points at where its messages went back to
        target.status, target.merged_into_id, target.resolved_at = "resolved", source.id, utcnow()
    _refresh_last_message(source)
    _refresh_last_message(target)
    db.session.flush()
    return _finish(agent, f"conversation.{record.kind}.undo", record, [source, target],
                   {"source": source.id, "target": target.id, "messages": len(record.message_ids)})


def follow_merges(conversation_ids: list[int]) -> list[int]:
    """Move posts that threaded into merged duplicates on to where they were merged; return the ids to route.

    Routing calls it first: a post stored in a duplicate (by its thread, parent or
    author window) lands in the conversation it was merged into, and the merge
    record lists it, so an undo takes it back too. One indexed read when nothing is merged.
    """
    merged = dict(db.session.execute(sa.select(Conversation.id, Conversation.merged_into_id).where(
        Conversation.id.in_(conversation_ids), Conversation.merged_into_id.is_not(None))).all())
    if not merged:
        return conversation_ids
    _lock(list(merged))
    for source_id in merged:
        target_id = db.session.scalar(sa.select(Conversation.merged_into_id).where(Conversation.id == source_id))
        record = db.session.scalar(sa.select(ConversationMerge).where(
            ConversationMerge.source_id == source_id, ConversationMerge.target_id == target_id,
            ConversationMerge.undone_at.is_(None)).order_by(ConversationMerge.id.desc()))
        if target_id is None or record is None:
            continue  # undone meanwhile: the posts stay
        arrived = _message_ids(source_id)
        _move(arrived, target_id)
        record.message_ids = [*record.message_ids, *arrived]
        merged[source_id] = target_id
        source, target = db.session.get(Conversation, source_id), db.session.get(Conversation, target_id)
        source.status = "resolved"  # intake re-opened the duplicate for the post; the post is the target's now
        if target.status not in ACTIVE_STATUSES:
            target.status, target.resolved_at = "open", None
        target.last_message_at = max(target.last_message_at, source.last_message_at)
        target.waiting_since = target.waiting_since or source.last_message_at
    db.session.commit()
    return sorted({merged.get(i, i) for i in conversation_ids})
