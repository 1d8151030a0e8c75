"""Changing conversations on an agent's behalf: checked, audited, announced, and learned from."""

import sqlalchemy as sa

from routing import Post
from routing.text import model_text
from workspace.errors import NotFound, ValidationError
from workspace.extensions import db
from workspace.live import signals
from workspace.live.changes import Changes
from workspace.models import Agent, Conversation, Correction, Message, Priority, Queue, is_id, queue_members, utcnow
from workspace.services import audit
from workspace.services.conversations.queues import visible_queue_ids
from workspace.services.service_levels import clocks

# Statuses an agent can set by hand (escalated and new belong to the system).
SETTABLE_STATUSES = ("open", "pending", "resolved", "spam")
MAX_TAGS = 30
MAX_TAG_CHARS = 40


def can_see(agent: Agent, conversation: Conversation) -> bool:
    """Supervisors and admins see every conversation; agents those in queues they work."""
    return agent.role != "agent" or conversation.queue_id in visible_queue_ids(agent)


def ensure_visible(conversation: Conversation | None, agent: Agent) -> Conversation:
    """Return the conversation if the agent may see it; otherwise it does not exist for them."""
    if conversation is None or not can_see(agent, conversation):
        raise NotFound("no such conversation")
    return conversation


def commit_change(conversation: Conversation, agent: Agent, action: str, before: dict, after: dict,
                  *, old_queue_id: int | None = None, changes: Changes | None = None) -> Conversation:
    """Audit a change made to a conversation, commit it, and tell the rooms that care.

    `changes` may carry effects the caller asked for (a reply to deliver, a ticket to create).
    """
    conversation.updated_at = utcnow()
    audit.record(agent, action, "conversation", conversation.id, before=before, after=after)
    db.session.flush()
    changes = changes or Changes()
    changes.add(conversation, "updated", old_queue_id=old_queue_id)
    db.session.commit()
    changes.publish()
    return conversation


def move_conversation(conversation: Conversation, queue_slug, agent: Agent) -> Conversation:
    """Move a conversation to another queue.

    When routing had placed it, the move is a labelled example for the
    classifier (a Correction), and enough of them trigger a retrain.
    """
    old_queue_id = conversation.queue_id
    change = change_queue(conversation, queue_slug, agent)
    if change is None:
        return conversation
    changes = Changes()
    if conversation.routed_at is not None:
        changes.request(signals.corrections_added, conversation.id)
    return commit_change(conversation, agent, "conversation.move", *change, old_queue_id=old_queue_id,
                         changes=changes)


def set_status(conversation: Conversation, status, agent: Agent) -> Conversation:
    """Set open, pending (waiting on the customer), resolved or spam."""
    change = change_status(conversation, status)
    if change is None:
        return conversation
    changes = Changes()
    if change[0]["status"] == "open" and conversation.assignee_id is not None:
        changes.request(signals.assignment_requested, conversation.queue_id)  # the assignee has room for one more
    return commit_change(conversation, agent, "conversation.status", *change, changes=changes)


def assign(conversation: Conversation, assignee, agent: Agent) -> Conversation:
    """Assign to an agent by id ("me" for oneself) or unassign with null; agents must work the queue."""
    change = change_assignee(conversation, assignee, agent)
    if change is None:
        return conversation
    changes = Changes()
    if change[0]["assignee_id"] is not None and conversation.status == "open":
        changes.request(signals.assignment_requested, conversation.queue_id)  # its previous agent has room
    if change[1]["assignee_id"] is not None:
        changes.request(signals.conversations_assigned, (conversation.id, agent.id))
    return commit_change(conversation, agent, "conversation.assign", *change, changes=changes)


def set_tags(conversation: Conversation, tags, agent: Agent) -> Conversation:
    """Replace the conversation's tags (lower-cased, de-duplicated, sorted)."""
    change = change_tags(conversation, tags)
    return commit_change(conversation, agent, "conversation.tags", *change) if change else conversation


def set_priority(conversation: Conversation, level, agent: Agent) -> Conversation:
    """Set the priority level by hand (the SLA due time follows it)."""
    change = change_priority(conversation, level)
    return commit_change(conversation, agent, "conversation.priority", *change) if change else conversation


# The change_* functions check and make one change in the current transaction
# without committing it (macros apply several as one), returning the changed
# fields' (before, after), or None when there was nothing to change.

def change_queue(conversation: Conversation, queue_slug, agent: Agent) -> tuple[dict, dict] | None:
    """Put the conversation in another queue; a move from where routing put it is a Correction."""
    if not isinstance(queue_slug, str):
        raise ValidationError("queue: must be a queue slug", code="invalid_field")
    queue = db.session.scalar(sa.select(Queue).where(Queue.slug == queue_slug))
    if queue is None:
        raise NotFound(f"queue: no queue named {queue_slug!r}")
    if conversation.status == "new":
        raise ValidationError("queue: the conversation is still being routed; try again in a moment",
                              code="not_routed")
    old_queue_id = conversation.queue_id
    if queue.id == old_queue_id:
        return None
    old_slug = conversation.queue.slug if conversation.queue else None
    conversation.queue = queue
    clocks.sync(conversation, utcnow())
    if conversation.routed_at is not None and agent.id is not None:  # an automation's move teaches nothing
        db.session.add(Correction(conversation_id=conversation.id, from_queue_id=old_queue_id, to_queue_id=queue.id,
                                  agent_id=agent.id, text=_model_input(conversation)))
    return {"queue": old_slug}, {"queue": queue.slug}


def change_status(conversation: Conversation, status) -> tuple[dict, dict] | None:
    """Set a status an agent may set by hand (a snooze ends with any of them)."""
    if status not in SETTABLE_STATUSES:
        raise ValidationError(f"status: must be one of {', '.join(SETTABLE_STATUSES)}", code="invalid_field")
    if conversation.status == "new":
        raise ValidationError("status: the conversation is still being routed", code="not_routed")
    before = conversation.status
    conversation.snoozed_until = None
    if status == before:
        return None
    conversation.status = status
    conversation.resolved_at = utcnow() if status == "resolved" else None
    clocks.sync(conversation, utcnow())
    return {"status": before}, {"status": status}


def change_assignee(conversation: Conversation, assignee, agent: Agent) -> tuple[dict, dict] | None:
    """Assign to an agent id, "me" (the acting agent) or nobody (None)."""
    if assignee == "me":
        assignee = agent.id
    target = None
    if assignee is not None:
        if not is_id(assignee):
            raise ValidationError('assignee: an agent id, "me" or null', code="invalid_field")
        target = db.session.get(Agent, assignee)
        if target is None or not target.active:
            raise ValidationError(f"assignee: no active agent {assignee}", code="invalid_field")
        if target.role == "agent" and not _works_queue(target, conversation.queue_id):
            raise ValidationError(f"assignee: {target.name} does not work this queue", code="not_a_member")
    before = conversation.assignee_id
    if before == (target.id if target else None):
        return None
    conversation.assignee = target
    conversation.assigned_at = utcnow() if target else None
    return {"assignee_id": before}, {"assignee_id": target.id if target else None}


def change_tags(conversation: Conversation, tags) -> tuple[dict, dict] | None:
    """Replace the tags with a cleaned list."""
    cleaned = clean_tags(tags)
    before = list(conversation.tags or [])
    if cleaned == before:
        return None
    conversation.tags = cleaned
    return {"tags": before}, {"tags": cleaned}


def change_priority(conversation: Conversation, level) -> tuple[dict, dict] | None:
    """Set the priority level; the SLA due time follows it."""
    if level not in ("urgent", "high", "normal", "low"):
        raise ValidationError("priority: must be urgent, high, normal or low", code="invalid_field")
    before = Priority(conversation.priority).label
    if level == before:
        return None
    conversation.priority = Priority.parse(level)
    clocks.sync(conversation, utcnow())
    return {"priority": before}, {"priority": level}


def clean_tags(tags) -> list[str]:
    """Validate a tag list: short strings, at most MAX_TAGS, normalised."""
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise ValidationError("tags: must be a list of strings", code="invalid_field")
    cleaned = sorted({tag.strip().lower() for tag in tags if tag.strip()})
    if len(cleaned) > MAX_TAGS or any(len(tag) > MAX_TAG_CHARS or "\x00" in tag for tag in cleaned):
        raise ValidationError(f"tags: at most {MAX_TAGS} tags of at most {MAX_TAG_CHARS} characters",
                              code="invalid_field")
    return cleaned


def _works_queue(agent: Agent, queue_id: int | None) -> bool:
    return queue_id is None or db.session.scalar(sa.select(sa.func.count()).select_from(queue_members).where(
        queue_members.c.agent_id == agent.id, queue_members.c.queue_id == queue_id)) > 0


def _model_input(conversation: Conversation) -> str:
    """What the classifier saw of this conversation: subject, first inbound post, channel."""
    text = db.session.scalar(
        sa.select(Message.text).where(Message.conversation_id == conversation.id, Message.direction == "inbound")
        .order_by(Message.id).limit(1)
    ) or ""
    return model_text(Post(text=text, subject=conversation.subject, channel=conversation.channel.slug))
