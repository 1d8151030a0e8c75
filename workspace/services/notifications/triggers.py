"""Who is told what: each change a service announced becomes notifications for the agents it concerns.

Every notification's key names the event behind it, so a job that runs twice (or two workers running the
same one) records each once. Titles carry the least needed (the conversation's number and queue, who did
it); the customer's words are never in them.
"""

import re
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from workspace.extensions import db
from workspace.models import ACTIVE_STATUSES, Agent, Conversation, Incident, Message, Notification, Priority, utcnow
from workspace.services.conversations.actions import can_see
from workspace.services.notifications import on_call
from workspace.services.notifications.records import Draft, record

# `@ada` or `@ada.lovelace`: an agent's address before the @, or their name without spaces.
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9][A-Za-z0-9._-]{0,63})")
MAX_MENTIONS = 20


def _label(conversation: Conversation) -> str:
    queue = conversation.queue.name if conversation.queue else "no queue"
    return f"#{conversation.id} in {queue}"


def _conversations(ids: list[int]) -> dict[int, Conversation]:
    rows = db.session.scalars(sa.select(Conversation).where(Conversation.id.in_(ids))
                              .options(so.joinedload(Conversation.queue))).all()
    return {c.id: c for c in rows}


def assigned(pairs: list[tuple[int, int | None]]) -> list[Draft]:
    """A conversation given to an agent (by someone else, or by automatic assignment) tells that agent."""
    conversations = _conversations([conversation_id for conversation_id, _ in pairs])
    names = _names([actor for _, actor in pairs if actor])
    drafts = []
    for conversation_id, actor_id in pairs:
        conversation = conversations.get(conversation_id)
        if conversation is None or conversation.assignee_id is None or conversation.assignee_id == actor_id:
            continue
        by = f" by {names[actor_id]}" if actor_id in names else ""
        drafts.append(Draft(conversation.assignee_id, "assigned",
                            f"assigned:{conversation.id}:{conversation.assigned_at.isoformat()}",
                            f"Assigned to you{by}: {_label(conversation)}", conversation.id, actor_id=actor_id))
    return drafts


def mentioned(message_ids: list[int]) -> list[Draft]:
    """`@name` in an internal note tells that agent; one who cannot see the conversation is not told (its
    words would leak), and the note's author hears that instead."""
    notes = db.session.scalars(sa.select(Message).where(Message.id.in_(message_ids), Message.direction == "note")
                               .options(so.joinedload(Message.conversation).joinedload(Conversation.queue),
                                        so.joinedload(Message.agent))).all()
    drafts = []
    for note in notes:
        handles = {handle.lower().rstrip("._-") for handle in MENTION.findall(note.text)[:MAX_MENTIONS]}
        conversation, author = note.conversation, note.agent
        for agent in resolve_mentions(handles):
            if author is not None and agent.id == author.id:
                continue
            if can_see(agent, conversation):
                drafts.append(Draft(agent.id, "mention", f"mention:{note.id}",
                                    f"{author.name if author else 'Someone'} mentioned you on {_label(conversation)}",
                                    conversation.id, actor_id=author.id if author else None))
            elif author is not None:
                drafts.append(Draft(author.id, "mention_refused", f"mention_refused:{note.id}:{agent.id}",
                                    f"{agent.name} was not told of your note on {_label(conversation)}: "
                                    f"they do not work that queue", conversation.id, actor_id=agent.id))
    return drafts


def resolve_mentions(handles: set[str]) -> list[Agent]:
    """The active agents these handles name (the part of their address before the @, or their name without
    spaces, in any case)."""
    if not handles:
        return []
    local_part = sa.func.lower(sa.func.substr(Agent.email, 1, sa.func.instr(Agent.email, "@") - 1)) \
        if db.session.get_bind().dialect.name == "sqlite" else sa.func.lower(sa.func.split_part(Agent.email, "@", 1))
    squashed = sa.func.lower(sa.func.replace(Agent.name, " ", ""))
    return list(db.session.scalars(sa.select(Agent).where(
        Agent.active.is_(True), sa.or_(local_part.in_(handles), squashed.in_(handles))).order_by(Agent.id)))


def routed(conversation_ids: list[int]) -> list[Draft]:
    """After routing: a customer's reply on an assigned conversation tells its agent; a new urgent
    conversation tells its queue's agents (out of hours, the first person on call)."""
    conversations = _conversations(conversation_ids)
    inbound = dict(db.session.execute(
        sa.select(Message.conversation_id, sa.func.count()).where(
            Message.conversation_id.in_(list(conversations)), Message.direction == "inbound")
        .group_by(Message.conversation_id)).all())
    now = utcnow()
    recipients: dict[int, tuple[list[int], bool]] = {}
    drafts = []
    for conversation in conversations.values():
        if conversation.status not in ACTIVE_STATUSES:
            continue
        if inbound.get(conversation.id, 0) > 1:
            if conversation.assignee_id is not None:
                drafts.append(Draft(conversation.assignee_id, "reply", f"reply:{conversation.routed_message_id}",
                                    f"The customer replied on {_label(conversation)}", conversation.id))
            continue
        if conversation.priority != Priority.URGENT or conversation.queue_id is None:
            continue
        if conversation.queue_id not in recipients:
            recipients[conversation.queue_id] = on_call.urgent_recipients(conversation.queue_id, now)
        agents, rota = recipients[conversation.queue_id]
        title = f"Urgent: {_label(conversation)}"
        if rota:
            drafts.append(Draft(agents[0], "urgent", f"oncall:{conversation.id}:0", f"{title} (you are on call)",
                                conversation.id))
        else:
            drafts.extend(Draft(agent_id, "urgent", f"urgent:{conversation.id}", title, conversation.id)
                          for agent_id in agents)
    return drafts


def at_risk(conversation_ids: list[int]) -> list[Draft]:
    """An SLA about to breach on an assigned conversation tells its agent (once per due time)."""
    return [Draft(c.assignee_id, "sla", f"sla:{c.id}:{c.sla_due_at.isoformat()}",
                  f"SLA about to breach on {_label(c)} (due {c.sla_due_at:%H:%M} UTC)", c.id)
            for c in _conversations(conversation_ids).values()
            if c.assignee_id is not None and c.status in ACTIVE_STATUSES]


def incidents_opened(incident_ids: list[int]) -> list[Draft]:
    """An incident opened (by hand or by a spike) tells every supervisor and admin."""
    incidents = db.session.scalars(sa.select(Incident).where(Incident.id.in_(incident_ids))).all()
    supervisors = db.session.scalars(sa.select(Agent.id).where(
        Agent.active.is_(True), Agent.role.in_(("supervisor", "admin")))).all()
    return [Draft(agent_id, "incident", f"incident:{incident.id}", f"Incident opened: {incident.title}",
                  incident_id=incident.id, actor_id=incident.created_by_id)
            for incident in incidents for agent_id in supervisors if agent_id != incident.created_by_id]


def escalations_due(now: datetime | None = None) -> list[Draft]:
    """Urgent conversations pushed to someone on call and not opened within ON_CALL_ESCALATE_MINUTES go to
    the next person on call (once each)."""
    now = now or utcnow()
    cutoff = now - timedelta(minutes=current_app.config["ON_CALL_ESCALATE_MINUTES"])
    waiting = db.session.scalars(sa.select(Notification.conversation_id).where(
        Notification.kind == "urgent", Notification.read_at.is_(None), Notification.created_at <= cutoff,
        Notification.key.like("oncall:%"))
        .distinct().limit(500)).all()
    if not waiting:
        return []
    told: dict[int, list[Notification]] = {}
    for row in db.session.scalars(sa.select(Notification).where(
            Notification.conversation_id.in_(waiting), Notification.kind == "urgent",
            Notification.key.like("oncall:%"))):
        told.setdefault(row.conversation_id, []).append(row)
    drafts = []
    for conversation_id, rows in told.items():
        latest = max(rows, key=lambda row: int(row.key.rsplit(":", 1)[1]))
        # Someone on call opened it, or the latest one told still has time.
        if any(row.read_at is not None for row in rows) or latest.created_at > cutoff:
            continue
        conversation = db.session.get(Conversation, conversation_id)
        if conversation is None or conversation.status not in ACTIVE_STATUSES or conversation.queue_id is None:
            continue
        position = int(latest.key.rsplit(":", 1)[1]) + 1
        agents = on_call.on_call_now(conversation.queue_id, now, on_call.queue_calendar(conversation.queue_id))
        if position < len(agents):
            drafts.append(Draft(agents[position], "urgent", f"oncall:{conversation_id}:{position}",
                                f"Urgent, not yet opened: {_label(conversation)} (you are next on call)",
                                conversation_id))
    return drafts


def _names(agent_ids: list[int]) -> dict[int, str]:
    if not agent_ids:
        return {}
    return dict(db.session.execute(sa.select(Agent.id, Agent.name).where(Agent.id.in_(agent_ids))).all())


TRIGGERS: dict[str, Callable[[list], list[Draft]]] = {
    "assigned": assigned, "note": mentioned, "routed": routed, "sla": at_risk, "incident": incidents_opened,
}


def notify(kind: str, ids: list) -> int:
    """Record (once) and emit the notifications one announced change calls for.

    Returns:
        How many notifications were created.
    """
    return len(record(TRIGGERS[kind](ids)))


def escalate(now: datetime | None = None) -> int:
    """Hand urgent conversations nobody on call opened in time to the next person on call."""
    return len(record(escalations_due(now)))
