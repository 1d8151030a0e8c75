"""Escalation: hand a conversation to the ticketing system as one ticket, and bring its status back.

The click stores a pending escalation in the same transaction as the
conversation's new status; a job creates the ticket (looking it up by
external_id first, so a retry after a timeout never makes a second one) and
retries with backoff while the ticketing system is down; the sweeper
re-enqueues any pending escalation whose job Redis lost or gave up on.
"""

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from suggestions.summary import as_text, summarize
from workspace.errors import NotFound, ValidationError
from workspace.extensions import db
from workspace.live import signals
from workspace.live.changes import Changes
from workspace.models import TICKET_DONE_STATUSES, Agent, Conversation, Escalation, Message, Priority, utcnow
from workspace.serializers import timestamp
from workspace.services import audit
from workspace.services.conversations.actions import commit_change
from workspace.services.escalation.client import TicketingClient, TicketingError
from workspace.services.service_levels import clocks

log = logging.getLogger(__name__)

# A ticket is created in two calls of at most TICKETING_TIMEOUT_SECONDS each; this bounds a stuck job.
CREATE_JOB_TIMEOUT = 120
# A job holds its escalation this long, so a second job for it cannot create a ticket meanwhile.
LEASE = timedelta(seconds=CREATE_JOB_TIMEOUT + 30)
# Zendesk comments hold 64 KB; a longer thread is cut, with the link back for the rest.
MAX_COMMENT_CHARS = 60_000


def request_escalation(conversation: Conversation, agent: Agent | None) -> tuple[Escalation, bool]:
    """Add a pending escalation of the conversation to the current transaction, or return its existing one.

    Does not commit: the caller commits (with whatever else it changed), then
    asks for escalations_requested with the new ids. The conversation becomes
    `escalated` and the request is audited in the same transaction. A
    conversation whose ticket was solved or closed is escalated again: its
    ticket is reopened (a closed one gets a follow-up ticket).

    Args:
        conversation: a routed conversation (not `new`).
        agent: who asked (None for the system).

    Returns:
        (the escalation, pending if new; whether this call asked for a ticket: False when one is on its
        way or being worked on).

    Raises:
        sqlalchemy.exc.IntegrityError: on SQLite, when another transaction escalated the same
            conversation at the same moment (PostgreSQL waits for it instead, then returns its escalation).
    """
    # Holds the conversation's row on PostgreSQL until commit, so two escalations of one
    # conversation at once queue up here and the second finds the first's row.
    db.session.execute(sa.select(Conversation.id).where(Conversation.id == conversation.id).with_for_update())
    escalation = db.session.scalar(sa.select(Escalation).where(Escalation.conversation_id == conversation.id))
    if escalation is not None and not wanted_again(escalation):
        return escalation, False
    if conversation.status == "new":
        raise ValidationError("escalate: the conversation is still being routed; try again in a moment",
                              code="not_routed")
    now = utcnow()
    if escalation is None:
        escalation = Escalation(conversation=conversation)
        db.session.add(escalation)
    escalation.agent_id, escalation.state, escalation.attempts, escalation.updated_at, escalation.requested_at = (
        agent.id if agent else None, "pending", 0, now, now)
    before = conversation.status
    conversation.status, conversation.resolved_at, conversation.updated_at = "escalated", None, now
    clocks.sync(conversation, now)  # the ticketing system has the work now: its clocks pause
    db.session.flush()
    audit.record(agent, "conversation.escalate", "conversation", conversation.id, before={"status": before},
                 after={"status": "escalated", "escalation_id": escalation.id})
    return escalation, True


def wanted_again(escalation: Escalation) -> bool:
    """Tell whether escalating once more should do something: the ticketing team finished with the ticket."""
    return escalation.state == "created" and escalation.ticket_status in TICKET_DONE_STATUSES


def escalate(conversation: Conversation, agent: Agent) -> tuple[Escalation, bool]:
    """One click: store the escalation, tell the rooms, queue the ticket's creation.

    Returns:
        (the escalation, whether this call asked for a ticket); escalating again while the ticket is
        being made or worked on returns the same escalation and asks for nothing.
    """
    try:
        escalation, asked = request_escalation(conversation, agent)
        if not asked:
            db.session.rollback()  # ends the transaction and its row lock; nothing changed
            return escalation, False
        changes = Changes()
        changes.add(conversation, "updated")
        changes.request(signals.escalations_requested, escalation.id)
        db.session.commit()
    except IntegrityError:  # another click on the same conversation got there first (SQLite; PostgreSQL waits)
        db.session.rollback()
        return db.session.scalar(sa.select(Escalation).where(Escalation.conversation_id == conversation.id)), False
    changes.publish()
    return escalation, True


def create_ticket(escalation_id: int) -> str:
    """Create the escalation's ticket unless it exists (the job; idempotent, raises so RQ retries).

    Returns:
        What happened: created, reopened, already created, busy (another job holds it) or missing.
    """
    escalation = db.session.get(Escalation, escalation_id)
    if escalation is None:
        return "missing"
    if escalation.state == "created":
        return "already created"
    if not _claim(escalation_id):
        return "busy"
    conversation = escalation.conversation
    client = TicketingClient.from_config(current_app.config)
    had_ticket = escalation.ticket_id is not None
    try:
        ticket = _open_ticket(client, escalation)
    except Exception as error:  # noqa: BLE001 - any failure is shown on the escalation; RQ retries it
        escalation.attempts += 1
        escalation.last_error = str(error)[:1000] if isinstance(error, TicketingError) else \
            f"{type(error).__name__}: {error}"[:1000]
        escalation.locked_until, escalation.updated_at = None, utcnow()
        _commit_and_announce(conversation)
        raise
    now = utcnow()
    escalation.attempts += 1
    escalation.state, escalation.last_error, escalation.locked_until = "created", None, None
    escalation.ticket_id, escalation.ticket_url = int(ticket["id"]), client.agent_url(int(ticket["id"]))
    escalation.ticket_status, escalation.updated_at = ticket.get("status"), now
    escalation.created_at = escalation.created_at or now
    action = "reopened" if had_ticket else "created"
    commit_change(conversation, None, f"escalation.ticket_{action}", {},
                  {"ticket_id": escalation.ticket_id, "ticket_status": escalation.ticket_status})
    return action


def _open_ticket(client: TicketingClient, escalation: Escalation) -> dict:
    """The ticket for the escalation, open: found by external_id (a solved one reopened with the news since),
    or created (as a follow-up when the earlier one is closed for good)."""
    conversation = escalation.conversation
    found = client.find_by_external_id(str(conversation.id))
    workable = [ticket for ticket in found if ticket.get("status") != "closed"]
    if not workable:
        ticket = ticket_for(conversation)
        if found:
            ticket["via_followup_source_id"] = max(int(t["id"]) for t in found)
        return client.create_ticket(ticket)
    ticket = max(workable, key=lambda t: int(t["id"]))
    if ticket.get("status") != "solved":
        return ticket
    since = escalation.ticket_status_at or escalation.created_at
    news = [m for m in conversation.messages if since is None or m.created_at >= since]
    body = _comment(conversation, news, "Escalated again from Switchboard")
    return client.update_ticket(int(ticket["id"]), {"status": "open", "comment": {"body": body, "public": False}})


def _comment(conversation: Conversation, messages: list[Message], heading: str, *, summarized: bool = False) -> str:
    """A private comment: a heading with the link back to the console, who the customer is, the thread's
    extractive summary when `summarized` (the first comment), then the messages."""
    author = conversation.author
    who = _customer(conversation)
    link = f"{current_app.config['PUBLIC_URL']}/conversations/{conversation.id}"
    lines = [f"{heading}: {link}",
             f"Customer: {who}{f' (@{author.handle})' if author.handle and author.name else ''}"
             f" on {conversation.channel.name}; queue: {conversation.queue.name if conversation.queue else '-'}", ""]
    summary = summarize([(message.direction, message.text) for message in messages]) if summarized else None
    if summary is not None:
        lines += ["Summary (sentences from the thread):", as_text(summary), ""]
    for message in messages:
        if message.direction == "inbound":
            speaker = who
        else:
            speaker = f"{message.agent.name if message.agent else 'Switchboard'}" \
                      f"{' (internal note)' if message.direction == 'note' else ' (reply)'}"
        lines += [f"--- {speaker}, {timestamp(message.created_at)}", message.text, ""]
    body = "\n".join(lines).strip()
    if len(body) > MAX_COMMENT_CHARS:
        body = body[:MAX_COMMENT_CHARS] + f"\n\n[the thread is longer: read it all at {link}]"
    return body


def _customer(conversation: Conversation) -> str:
    """How tickets name the customer: their name, else their handle."""
    author = conversation.author
    return author.name or (f"@{author.handle}" if author.handle else f"customer {author.external_id}")


def ticket_for(conversation: Conversation) -> dict:
    """The Zendesk ticket for a conversation: subject, the thread as a private first comment, the customer
    as requester, the priority, tags, external_id and a link back to the console."""
    author = conversation.author
    who = _customer(conversation)
    body = _comment(conversation, list(conversation.messages), "Escalated from Switchboard", summarized=True)
    subject = conversation.subject or next(
        (m.text for m in conversation.messages if m.direction == "inbound"), f"Conversation {conversation.id}")
    requester = {"name": who[:255]}
    if author.email:
        requester["email"] = author.email
    tags = {"switchboard", f"channel_{conversation.channel.slug}"}
    tags |= {f"queue_{conversation.queue.slug}"} if conversation.queue else set()
    tags |= {tag.replace(" ", "_") for tag in conversation.tags or []}
    return {
        "subject": " ".join(subject.split())[:150],
        # Private: the thread holds internal notes, and a public first comment would be emailed to the customer.
        "comment": {"body": body, "public": False},
        "requester": requester,
        "priority": Priority(conversation.priority).label,
        "external_id": str(conversation.id),
        "tags": sorted(tags),
    }


def apply_ticket_status(ticket_id: int, external_id: str | None, status: str, at: datetime,
                        comment: str | None = None) -> Escalation:
    """Bring a ticket's new status to its conversation (from a signed webhook).

    Solved (or closed) puts an escalated conversation back to open, for the
    agent's closing reply, with an internal note; a reopened ticket makes it
    escalated again. An older change arriving after a newer one changes nothing.

    Args:
        ticket_id: the ticket's id in the ticketing system.
        external_id: the ticket's external_id (the conversation id), for a ticket the job has not recorded yet.
        status: the ticket's status now (new, open, pending, hold, solved, closed).
        at: when the ticketing system sent it.
        comment: the ticketing team's latest public comment, quoted in the note.

    Returns:
        The escalation.
    """
    escalation = db.session.scalar(sa.select(Escalation).where(Escalation.ticket_id == ticket_id))
    if escalation is None and external_id and external_id.isdigit():
        escalation = db.session.scalar(sa.select(Escalation).where(
            Escalation.conversation_id == int(external_id), Escalation.ticket_id.is_(None)))
    if escalation is None:
        raise NotFound(f"no escalation has ticket {ticket_id}", code="unknown_ticket")
    if escalation.ticket_status_at is not None and at < escalation.ticket_status_at:
        db.session.rollback()
        return escalation
    previous = escalation.ticket_status
    if escalation.ticket_id is None:  # the ticket exists even if the job has not heard back yet
        escalation.ticket_id = ticket_id
        escalation.ticket_url = TicketingClient.from_config(current_app.config).agent_url(ticket_id)
        escalation.state, escalation.created_at = "created", escalation.created_at or at
    escalation.ticket_status, escalation.ticket_status_at, escalation.updated_at = status, at, utcnow()
    conversation = escalation.conversation
    before = conversation.status
    if status == previous:
        db.session.commit()
        return escalation
    done, was_done = status in TICKET_DONE_STATUSES, previous in TICKET_DONE_STATUSES
    note = None
    if done and not was_done:
        note = f"Ticket #{ticket_id} was {status} in the ticketing system. Let the customer know."
        if conversation.status == "escalated":
            conversation.status = "open"
    elif was_done and not done:
        note = f"Ticket #{ticket_id} was reopened ({status}) in the ticketing system."
        conversation.status, conversation.resolved_at = "escalated", None
    if note and comment:
        note += f"\n\nTheir latest reply: {comment}"
    if note:
        now = utcnow()
        clocks.sync(conversation, now)  # re-opened: the clocks run again; escalated again: they pause
        db.session.add(Message(conversation_id=conversation.id, channel_id=conversation.channel_id,
                               direction="note", text=note, created_at=now, received_at=now))
    commit_change(conversation, None, "escalation.ticket_status", {"ticket_status": previous, "status": before},
                  {"ticket_status": status, "status": conversation.status})
    return escalation


def _claim(escalation_id: int) -> bool:
    """Take the escalation's lease if it is pending and nobody holds it; commit at once so others see it."""
    now = utcnow()
    claimed = db.session.execute(
        sa.update(Escalation)
        .where(Escalation.id == escalation_id, Escalation.state == "pending",
               sa.or_(Escalation.locked_until.is_(None), Escalation.locked_until < now))
        .values(locked_until=now + LEASE)
    ).rowcount
    db.session.commit()
    return claimed == 1


def _commit_and_announce(conversation: Conversation) -> None:
    """Commit, then send the conversation's new state to the rooms watching it (not an agent's change:
    nothing to audit)."""
    changes = Changes()
    changes.add(conversation, "updated")
    db.session.commit()
    changes.publish()
