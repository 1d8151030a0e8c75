"""Posts edited or deleted where they were written: the stored message follows, and so does the search index.

An edit replaces the message's text (and subject, when the sender sends one);
a deletion empties both and keeps the row, so the conversation's thread, its
replies and its audit stay whole while the customer's words leave Switchboard
and its search index (the index's triggers and generated column run in the
same transaction). A change to a post never delivered changes nothing: edits
and deletions may arrive before, or instead of, the post itself.
"""

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.channels.post import SourceChange
from workspace.extensions import db
from workspace.live.changes import Changes
from workspace.models import Message, utcnow
from workspace.serializers import SERIALIZED


@dataclass(frozen=True, slots=True)
class ChangeOutcome:
    """What became of one edit or deletion."""

    external_id: str
    status: str  # "edited", "deleted" or "unknown" (no such post stored)
    conversation_id: int | None = None
    message_id: int | None = None


def apply_source_changes(channel_id: int, changes: list[SourceChange]) -> list[ChangeOutcome]:
    """Apply a delivery's edits and deletions to the stored inbound messages, in one transaction.

    Args:
        channel_id: the channel the delivery came from (external ids are unique per channel).
        changes: what the adapter read from the delivery.

    Returns:
        One outcome per change, in order; committed (and announced to consoles) before this returns.
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
            message.text, message.subject = "", ""
            # The sender's payload holds the words too; keep only that the post is gone.
            message.raw = {"deleted_at": utcnow().isoformat()}
        else:
            message.text = change.text
            if change.subject is not None:
                message.subject = change.subject
        touched[message.conversation_id] = message.conversation
        outcomes.append(ChangeOutcome(change.external_id, "deleted" if change.deleted else "edited",
                                      message.conversation_id, message.id))
    announcement = Changes()
    for conversation in touched.values():
        conversation.updated_at = utcnow()
        announcement.add(conversation, "updated")
    db.session.commit()
    announcement.publish()
    return outcomes
