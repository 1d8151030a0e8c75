"""Posts edited, deleted or recovered where they were written: the stored message, its conversation and the
search index follow.

An edit replaces the message's text (and subject, when the sender sends one) and
keeps the replaced version in the message's `edits`, for agents (the search index
holds only the current words). When the edited post is the one routing last read
and no agent has touched the conversation yet, it is routed again from scratch, so
an edit that changes the route moves it.

A deletion hides the message and empties its words (and its history and payload),
so the customer's words leave Switchboard and its search index while the thread,
its replies and its audit stay whole. A conversation with nothing else in it (every
inbound post deleted, no reply or note) is withdrawn from its queue: resolved and
tagged `source-deleted`. A recovery (Discourse `post_recovered`, which carries the
text) shows the message again with that text and puts a withdrawn conversation back.

Changes to a post never delivered change nothing: they may arrive before, or instead of, the post.
"""

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.channels.post import SourceChange
from workspace.extensions import db
from workspace.live.changes import Changes
from workspace.models import Conversation, Message, OutboxEntry, utcnow
from workspace.serializers import SERIALIZED

# The tag a conversation withdrawn because its posts were deleted at the source carries.
WITHDRAWN_TAG = "source-deleted"


@dataclass(frozen=True, slots=True)
class ChangeOutcome:
    """What became of one edit, deletion or recovery."""

    external_id: str
    status: str  # "edited", "deleted", "recovered" or "unknown" (no such post stored)
    conversation_id: int | None = None
    message_id: int | None = None


def _edit(message: Message, change: SourceChange) -> None:
    now = utcnow()
    if message.text != change.text or (change.subject is not None and change.subject != message.subject):
        message.edits = [*(message.edits or []), {"text": message.text, "subject": message.subject,
                                                  "replaced_at": now.isoformat()}]
    message.text = change.text
    if change.subject is not None:
        message.subject = change.subject
    if change.recovered:
        message.hidden_at = None


def _delete(message: Message) -> None:
    message.text, message.subject, message.edits = "", "", None
    message.hidden_at = utcnow()
    # The sender's payload holds the words too; keep only that the post is gone.
    message.raw = {"deleted_at": message.hidden_at.isoformat()}


def _nothing_else(conversation: Conversation) -> bool:
    """Whether every message of the conversation is a hidden inbound post."""
    return not db.session.scalar(sa.select(sa.exists().where(
        Message.conversation_id == conversation.id,
        sa.or_(Message.direction != "inbound", Message.hidden_at.is_(None)))))


def _untouched(conversation: Conversation) -> bool:
    """Routing's own work still: no agent moved, assigned or answered it."""
    return (conversation.status == "open" and conversation.assignee_id is None
            and conversation.first_reply_at is None and conversation.queue_id == conversation.routed_queue_id)


def _reroute(conversation: Conversation) -> None:
    """Send an untouched conversation whose latest post changed back through routing, as if new."""
    latest = db.session.scalar(sa.select(sa.func.max(Message.id)).where(
        Message.conversation_id == conversation.id, Message.direction == "inbound"))
    if latest == conversation.routed_message_id and _untouched(conversation):
        conversation.status, conversation.routed_message_id = "new", None
        db.session.add(OutboxEntry(conversation_id=conversation.id))


def apply_source_changes(channel_id: int, changes: list[SourceChange]) -> tuple[list[ChangeOutcome], list[int]]:
    """Apply a delivery's edits, deletions and recoveries to the stored inbound messages, in one transaction.

    Args:
        channel_id: the channel the delivery came from (external ids are unique per channel).
        changes: what the adapter read from the delivery.

    Returns:
        One outcome per change, in order, committed (and announced to consoles) before this returns; and the
        ids of conversations to route again (their outbox rows are committed: hand them to the dispatcher).
    """
    ids = sorted({change.external_id for change in changes})
    # With each message its conversation and what announcing it reads: one query, not a few per conversation.
    messages = {message.external_id: message for message in db.session.scalars(
        sa.select(Message).options(so.joinedload(Message.conversation).options(*SERIALIZED))
        .where(Message.channel_id == channel_id, Message.external_id.in_(ids), Message.direction == "inbound"))}
    outcomes, touched = [], {}
    for change in changes:
        message = messages.get(change.external_id)
        if message is None:
            outcomes.append(ChangeOutcome(change.external_id, "unknown"))
            continue
        if change.deleted:
            _delete(message)
        else:
            _edit(message, change)
        touched.setdefault(message.conversation_id, (message.conversation, []))[1].append(change)
        status = "deleted" if change.deleted else "recovered" if change.recovered else "edited"
        outcomes.append(ChangeOutcome(change.external_id, status, message.conversation_id, message.id))
    db.session.flush()
    announcement, reroute, now = Changes(), [], utcnow()
    for conversation, made in touched.values():
        tags = set(conversation.tags or ())
        if any(c.deleted for c in made) and _nothing_else(conversation) and WITHDRAWN_TAG not in tags:
            conversation.status, conversation.resolved_at = "resolved", now
            conversation.tags = sorted(tags | {WITHDRAWN_TAG})
        elif any(c.recovered for c in made) and WITHDRAWN_TAG in tags:
            conversation.status, conversation.resolved_at = "open", None
            conversation.tags = sorted(tags - {WITHDRAWN_TAG})
        elif not any(c.deleted for c in made):
            _reroute(conversation)
            if conversation.status == "new":
                reroute.append(conversation.id)
        conversation.updated_at = now
        announcement.add(conversation, "updated")
    db.session.commit()
    announcement.publish()
    return outcomes, reroute
