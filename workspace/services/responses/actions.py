"""Applying a macro's actions to one conversation, in the current transaction, all or nothing.

Every action type of macros.PARSERS has an applier here: it makes its change
on the conversation without committing and returns the changed fields'
(before, after). apply_actions runs them in order; if one refuses, every
change it made to that conversation is discarded and the refusal says which
action failed. The caller commits (one conversation, or a batch of them).

The "escalate" applier stores the ticket request (services.escalation) in the
same transaction; the caller enqueues Applied.escalation after its commit.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from macros import Action, TemplateError, describe, parse_time, referenced_articles, render
from workspace.channels.registry import reply_fits, reply_limit
from workspace.errors import NotFound, ValidationError
from workspace.extensions import db
from workspace.live import signals
from workspace.live.changes import Changes
from workspace.models import Agent, Conversation, Priority, Queue, utcnow
from workspace.serializers import timestamp
from workspace.services import audit, satisfaction
from workspace.services.conversations.actions import (
    change_assignee,
    change_priority,
    change_queue,
    change_status,
    change_tags,
    clean_tags,
)
from workspace.services.conversations.replies import store_note, store_reply
from workspace.services.escalation.tickets import request_escalation
from workspace.services.knowledge.articles import template_fields
from workspace.services.service_levels import clocks

# Fields an undo can put back (replies and notes stay: they were sent or written); the customer's tags
# are undone by taking away the ones added (see _tag_customer).
UNDOABLE = ("status", "snoozed_until", "tags", "priority", "queue", "assignee_id")


@dataclass
class Applied:
    """What applying a macro did to one conversation."""

    conversation: Conversation
    agent: Agent
    template: str
    reply_text: str | None = None
    reply: object = None
    changes: list[dict] = field(default_factory=list)
    # The first value each undoable field had before the macro touched it.
    undo: dict = field(default_factory=dict)
    old_queue_id: int | None = None
    # The ticket request this macro made, for the caller to enqueue after its commit.
    escalation: object = None

    def request_effects(self, changes: Changes) -> None:
        """Ask, for after the commit, what this macro set in motion: its reply's delivery, its ticket, and
        a retrain once routing's choice was corrected (a routed conversation moved)."""
        if self.reply is not None:
            changes.request(signals.replies_queued, self.reply.id)
        if self.escalation is not None:
            changes.request(signals.escalations_requested, self.escalation.id)
        if self.conversation.routed_at is not None and any(change["action"] == "move" for change in self.changes):
            changes.request(signals.corrections_added, self.conversation.id)

    def record(self, action: Action, change: tuple[dict, dict] | None) -> None:
        """Note one action's change (None when it changed nothing)."""
        if change is None:
            return
        before, after = change
        self.changes.append({"action": action.type, "description": describe(action), "before": before,
                             "after": after})
        for key, value in before.items():
            if key in UNDOABLE:
                self.undo.setdefault(key, value)


def template_variables(conversation: Conversation, agent: Agent) -> dict:
    """The only data a template sees: plain fields of the customer, agent, conversation, queue and channel.

    Missing values are None, which templates see as undefined (so `default(...)` applies).
    """
    author, channel, queue = conversation.author, conversation.channel, conversation.queue
    name = (author.name or "").strip()
    return {
        "author": {"first_name": name.split()[0] if name else None, "name": name or None,
                   "handle": author.handle or None, "followers": author.followers, "verified": author.verified,
                   "email": author.email, "tags": list(author.tags or [])},
        "agent": {"name": agent.name, "first_name": agent.name.split()[0] if agent.name.strip() else None,
                  "email": agent.email},
        "conversation": {"id": conversation.id, "subject": conversation.subject or None,
                         "survey_url": satisfaction.survey_url(conversation.id),
                         "status": conversation.status, "priority": Priority(conversation.priority).label,
                         "tags": list(conversation.tags or [])},
        "queue": {"slug": queue.slug if queue else None, "name": queue.name if queue else None},
        "channel": {"slug": channel.slug, "name": channel.name, "kind": channel.kind,
                    "reply_limit": reply_limit(channel.kind)},
        "ticket": _ticket(conversation.escalation),
    }


def _ticket(escalation) -> dict:
    """The conversation's ticket as templates see it (its fields None until it is escalated)."""
    if escalation is None:
        return {"id": None, "url": None, "status": None}
    return {"id": escalation.ticket_id, "url": escalation.ticket_url, "status": escalation.ticket_status}


def render_text(text: str, conversation: Conversation, agent: Agent, what: str = "template") -> str:
    """Render a template for this conversation; a template that fails is a ValidationError saying why."""
    try:
        return render(text, {**template_variables(conversation, agent),
                             "articles": template_fields(referenced_articles(text))})
    except TemplateError as error:
        raise ValidationError(f"{what}: {str(error).removeprefix('template: ')}", code="invalid_template")


def _reply(applied: Applied, params: dict) -> tuple[dict, dict]:
    conversation = applied.conversation
    applied.reply_text = render_text(applied.template, conversation, applied.agent)
    too_long = reply_fits(applied.reply_text, conversation.channel.kind)
    if too_long:
        raise ValidationError(too_long, code="reply_too_long")
    applied.reply = store_reply(conversation, applied.reply_text, applied.agent)
    return {}, {"reply": applied.reply_text}


def _note(applied: Applied, params: dict) -> tuple[dict, dict]:
    text = render_text(params["text"], applied.conversation, applied.agent, "note")
    store_note(applied.conversation, text, applied.agent)
    return {}, {"note": text}


def _add_tags(applied: Applied, params: dict):
    return change_tags(applied.conversation, [*(applied.conversation.tags or []), *params["tags"]])


def _remove_tags(applied: Applied, params: dict):
    return change_tags(applied.conversation, [t for t in applied.conversation.tags or [] if t not in params["tags"]])


def _snooze(applied: Applied, params: dict) -> tuple[dict, dict]:
    conversation = applied.conversation
    until = parse_time(params["until"]) if "until" in params else utcnow() + timedelta(minutes=params["minutes"])
    if until <= utcnow():
        raise ValidationError(f"snooze: {params['until']} has passed", code="invalid_field")
    before = {"status": conversation.status, "snoozed_until": timestamp(conversation.snoozed_until)}
    change_status(conversation, "pending")
    conversation.snoozed_until = until
    return before, {"status": "pending", "snoozed_until": timestamp(until)}


def _tag_customer(applied: Applied, params: dict):
    author = applied.conversation.author
    before = list(author.tags or [])
    added = [tag for tag in params["tags"] if tag not in before]
    if not added:
        return None
    author.tags = clean_tags(before + added)
    author.updated_at = utcnow()
    # The customer is shared by their conversations: undo takes away what was added, not the whole list.
    applied.undo["customer_tags_added"] = [*applied.undo.get("customer_tags_added", []), *added]
    return {"customer_tags": before}, {"customer_tags": author.tags}


def _escalate(applied: Applied, params: dict) -> tuple[dict, dict] | None:
    escalation, asked = request_escalation(applied.conversation, applied.agent)
    if not asked:
        return None  # one ticket per conversation: its ticket is open or on its way
    applied.escalation = escalation
    # Not "status": an undo must not quietly reopen a conversation whose ticket exists.
    return {"ticket": None}, {"ticket": "requested", "escalation_id": applied.escalation.id}


# type -> apply(applied, params) -> (before, after) or None; one per macros.PARSERS entry.
APPLIERS: dict[str, Callable[[Applied, dict], tuple[dict, dict] | None]] = {
    "reply": _reply,
    "note": _note,
    "add_tags": _add_tags,
    "remove_tags": _remove_tags,
    "priority": lambda applied, p: change_priority(applied.conversation, p["priority"]),
    "move": lambda applied, p: change_queue(applied.conversation, p["queue"], applied.agent),
    "assign": lambda applied, p: change_assignee(applied.conversation, p["assignee"], applied.agent),
    "status": lambda applied, p: change_status(applied.conversation, p["status"]),
    "snooze": _snooze,
    "tag_customer": _tag_customer,
    "escalate": _escalate,
}


def apply_actions(conversation: Conversation, template: str, actions: list[Action], agent: Agent) -> Applied:
    """Apply actions in order to one conversation, uncommitted; all or nothing.

    Args:
        conversation: the conversation (its author, channel and queue loaded).
        template: the reply template the "reply" action sends.
        actions: validated actions (macros.parse_actions).
        agent: who applies them.

    Returns:
        What changed, and what an undo would put back.

    Raises:
        ValidationError: naming the action that refused; nothing of this
            conversation's changes is left in the session.
    """
    applied = Applied(conversation, agent, template, old_queue_id=conversation.queue_id)
    author = conversation.author
    added_before = set(db.session.new)
    try:
        with db.session.no_autoflush:  # a half-applied conversation must never reach the database
            for index, action in enumerate(actions):
                try:
                    applied.record(action, APPLIERS[action.type](applied, action.params))
                except ValidationError as error:
                    error.message = f"{describe(action)} (action {index + 1}): {error.message}"
                    raise
                except NotFound as error:  # what the macro names is gone: the macro is at fault, a 400
                    raise ValidationError(f"{describe(action)} (action {index + 1}): {error.message}",
                                          code="invalid_field") from None
    except Exception:
        for new in set(db.session.new) - added_before:
            db.session.expunge(new)
        db.session.expire(conversation)
        db.session.expire(author)
        raise
    if applied.changes:
        conversation.updated_at = utcnow()
    return applied


def undo_changes(conversation: Conversation, undo: dict) -> None:
    """Put back the fields a macro changed on a conversation, uncommitted."""
    if "queue" in undo:
        conversation.queue = db.session.scalar(sa.select(Queue).where(Queue.slug == undo["queue"]))
    if "status" in undo:
        conversation.status = undo["status"]
        conversation.resolved_at = utcnow() if undo["status"] == "resolved" else None
    if "snoozed_until" in undo:
        conversation.snoozed_until = parse_time(undo["snoozed_until"])
    if "tags" in undo:
        conversation.tags = undo["tags"]
    if "priority" in undo:
        conversation.priority = Priority.parse(undo["priority"])
    if "assignee_id" in undo:  # through the relationship, so the event shows the agent put back
        conversation.assignee = db.session.get(Agent, undo["assignee_id"]) if undo["assignee_id"] else None
    if "customer_tags_added" in undo:
        author = conversation.author
        author.tags = [tag for tag in author.tags or [] if tag not in undo["customer_tags_added"]]
    conversation.updated_at = utcnow()
    clocks.sync(conversation, conversation.updated_at)  # status, queue and priority decide the SLA clocks


def wake_snoozed(now: datetime | None = None) -> int:
    """Reopen every snoozed conversation whose time has come; returns how many.

    Runs periodically on the scheduler. Each is audited as a system change and
    announced like any other.
    """
    now = now or utcnow()
    due = db.session.scalars(sa.select(Conversation).where(
        Conversation.status == "pending", Conversation.snoozed_until <= now).order_by(Conversation.id)
        .limit(1000)).all()
    changes = Changes()
    for conversation in due:
        audit.record(None, "conversation.wake", "conversation", conversation.id,
                     before={"status": "pending", "snoozed_until": timestamp(conversation.snoozed_until)},
                     after={"status": "open"})
        conversation.status, conversation.snoozed_until, conversation.updated_at = "open", None, now
        clocks.sync(conversation, now)  # the clocks paused while it was pending run again
    db.session.flush()
    for conversation in due:
        changes.add(conversation, "updated")
    db.session.commit()
    changes.publish()
    return len(due)
