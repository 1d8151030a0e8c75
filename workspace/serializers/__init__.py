"""One serializer per resource, shared by the REST API and the socket events."""

from datetime import datetime
from urllib.parse import urlsplit

import sqlalchemy as sa
import sqlalchemy.orm as so

from workspace.extensions import db
from workspace.models import (
    NOT_DUE,
    TARGETS,
    Agent,
    Assignment,
    Author,
    BusinessCalendar,
    Channel,
    Conversation,
    Escalation,
    Message,
    Person,
    Priority,
    Queue,
    SlaPolicy,
)
from workspace.models.counts import AT_RISK_CAP
from workspace.serializers.email import serialize_email

# Loader options for conversations about to be serialized (no query per row; one more for the authors of
# the page's people, whose tags the author summary unites).
SERIALIZED = (so.joinedload(Conversation.queue), so.joinedload(Conversation.channel),
              so.joinedload(Conversation.author).joinedload(Author.person).selectinload(Person.authors),
              so.joinedload(Conversation.assignee))


def timestamp(moment: datetime | None) -> str | None:
    """Format a UTC datetime as ISO 8601 with a Z."""
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def serialize_channel(channel: Channel) -> dict:
    """A channel without its secret."""
    return {"id": channel.id, "slug": channel.slug, "name": channel.name, "kind": channel.kind,
            "enabled": channel.enabled}


def serialize_queue(queue: Queue, counts: dict | None = None) -> dict:
    """A queue, with its live counts (and the cap at which at-risk counting stops) when given."""
    data = {"id": queue.id, "slug": queue.slug, "name": queue.name, "description": queue.description,
            "assignment": queue.assignment, "lead_id": queue.lead_id, "signature": queue.signature or ""}
    if counts is not None:
        data["counts"], data["at_risk_cap"] = counts, AT_RISK_CAP
    return data


def serialize_agent(agent: Agent | None) -> dict | None:
    """An agent as others see them (no credentials)."""
    if agent is None:
        return None
    return {"id": agent.id, "name": agent.name, "email": agent.email, "role": agent.role}


def serialize_author(author: Author) -> dict:
    """A customer's profile."""
    return {
        "id": author.id, "channel": author.channel.slug, "external_id": author.external_id,
        "handle": author.handle, "name": author.name, "email": author.email,
        "followers": author.followers, "verified": author.verified, "tags": author.tags or [],
        "created_at": timestamp(author.created_at), "trust_level": author.trust_level,
        "profile_url": author.profile_url, "avatar_url": author.avatar_url, "person_id": author.person_id,
    }


def person_tags(author: Author) -> list[str]:
    """The union of the tags of every author of the author's person (VIP anywhere is VIP everywhere); the
    author's own without a person. Load the authors with SERIALIZED to list many without a query each."""
    members = author.person.authors if author.person_id is not None and author.person is not None else [author]
    return sorted({tag for member in members for tag in (member.tags or ())})


def serialize_person(person, authors: list[Author], facts) -> dict:
    """A person: the authors (visible to the caller) they write as, and what routing reads from all of them."""
    return {"id": person.id, "name": person.name, "fields": person.fields or {},
            "tags": sorted(facts.tags), "followers": facts.followers, "verified": facts.verified,
            "authors": [serialize_author(a) for a in authors], "created_at": timestamp(person.created_at)}


def serialize_person_link(link) -> dict:
    """A link between two authors: its evidence, where it stands, who decided and when."""
    return {"id": link.id, "status": link.status, "evidence": link.evidence or [],
            "authors": [serialize_author(link.author), serialize_author(link.other_author)],
            "decided_by": serialize_agent(link.decided_by), "created_at": timestamp(link.created_at),
            "decided_at": timestamp(link.decided_at)}


def serialize_author_note(note) -> dict:
    """An internal note about a customer, with who wrote it and when."""
    return {"id": note.id, "text": note.text, "agent": serialize_agent(note.agent),
            "created_at": timestamp(note.created_at), "updated_at": timestamp(note.updated_at)}


def serialize_message(message: Message) -> dict:
    """One message; text is returned as data, for the client to escape (email: its details, see serializers.email)."""
    data = {
        "id": message.id, "direction": message.direction, "external_id": message.external_id,
        "author_id": message.author_id, "agent": serialize_agent(message.agent),
        "subject": message.subject, "text": message.text, "url": message.url,
        "in_reply_to": message.in_reply_to, "created_at": timestamp(message.created_at),
        "received_at": timestamp(message.received_at), "delivery_status": message.delivery_status,
        "delivery_error": message.delivery_error, "language": message.language,
        "hidden": message.hidden_at is not None, "edits": message.edits or [],
        "automatic": message.automatic,
    }
    email = serialize_email(message) if message.raw and "email" in message.raw else None
    if email is not None:
        data["email"] = email
    return data


def serialize_rating(rating) -> dict | None:
    """A customer's survey answer: score, comment, the agent who had the conversation, when (None: no answer)."""
    if rating is None:
        return None
    return {"score": rating.score, "comment": rating.comment, "agent_id": rating.agent_id,
            "created_at": timestamp(rating.created_at)}


def sort_key(conversation: Conversation) -> str:
    """The conversation's place in its queue as one string: sorted by code unit, it gives the server's order
    (priority, SLA due time with no clock last, age, id), so the console never re-derives it."""
    return (f"{conversation.priority}|{conversation.sla_due_at:%Y%m%d%H%M%S%f}|"
            f"{conversation.created_at:%Y%m%d%H%M%S%f}|{conversation.id:012d}")


def serialize_conversation(conversation: Conversation, *, preview: str | None = None,
                           thread: tuple[list[Message], int | None] | None = None) -> dict:
    """A conversation as listed (with the start of its latest post, when given); given a page of its
    thread (see services.conversations.threads.thread_page), in full: those messages, author and explanation."""
    data = {
        "id": conversation.id,
        "status": conversation.status,
        "queue": conversation.queue.slug if conversation.queue else None,
        "channel": conversation.channel.slug, "channel_kind": conversation.channel.kind,
        "priority": Priority(conversation.priority).label,
        "priority_score": round(conversation.priority_score, 3),
        "subject": conversation.subject,
        "tags": conversation.tags or [],
        "private": conversation.private,
        "assignee": serialize_agent(conversation.assignee),
        "author": {"id": conversation.author.id, "handle": conversation.author.handle,
                   "name": conversation.author.name, "followers": conversation.author.followers,
                   "verified": conversation.author.verified, "tags": conversation.author.tags or [],
                   "person_tags": person_tags(conversation.author)},
        "sla_due_at": timestamp(conversation.sla_due_at) if conversation.sla_due_at != NOT_DUE else None,
        "sla_status": conversation.sla_status,
        "created_at": timestamp(conversation.created_at),
        "updated_at": timestamp(conversation.updated_at),
        "last_message_at": timestamp(conversation.last_message_at),
        "snoozed_until": timestamp(conversation.snoozed_until),
        "language": conversation.language,
        "merged_into": conversation.merged_into_id,
        "sort_key": sort_key(conversation),
    }
    explanation = conversation.explanation or {}
    data["sentiment"] = explanation.get("sentiment")
    data["priority_reasons"] = [
        {"factor": c.get("factor"), "detail": c.get("detail"), "points": c.get("points")}
        for c in (explanation.get("priority") or {}).get("contributions", [])
    ]
    if preview is not None:
        data["preview"] = preview
    if thread is not None:
        data["author"] = serialize_author(conversation.author) | {"person_tags": data["author"]["person_tags"]}
        shown, earlier = thread
        data["messages"] = [serialize_message(m) for m in shown]
        data["earlier_messages"] = earlier
        data["explanation"] = conversation.explanation
        data["routed_at"] = timestamp(conversation.routed_at)
        data["escalation"] = serialize_escalation(conversation.escalation)
        data["sla"] = describe_sla(conversation)
        data["assignment"] = latest_assignment(conversation)
    return data


def serialize_escalation(escalation: Escalation | None) -> dict | None:
    """A conversation's ticket: pending (with attempts and the last error) or created (number, link, status)."""
    if escalation is None:
        return None
    return {"state": escalation.state, "ticket_id": escalation.ticket_id, "ticket_url": escalation.ticket_url,
            "ticket_status": escalation.ticket_status, "attempts": escalation.attempts,
            "last_error": escalation.last_error, "requested_at": timestamp(escalation.requested_at),
            "created_at": timestamp(escalation.created_at), "agent": serialize_agent(escalation.agent)}


def describe_sla(conversation: Conversation) -> dict:
    """The SLA clocks as the API shows them: status, paused or not, and each running target."""
    return {
        "status": conversation.sla_status,
        "paused": conversation.sla_paused_at is not None,
        "targets": {target: {key: entry[key] for key in ("started_at", "due_at", "at_risk_at", "minutes", "state")}
                    | {"business_hours": entry["calendar_id"] is not None}
                    for target, entry in (conversation.sla_clock or {}).items()},
    }


def serialize_assignment(assignment: Assignment) -> dict:
    """One automatic assignment or return, with why that agent and why each other was skipped."""
    return {"id": assignment.id, "kind": assignment.kind, "strategy": assignment.strategy,
            "agent": serialize_agent(assignment.agent), "reason": assignment.reason,
            "candidates": assignment.candidates, "created_at": timestamp(assignment.created_at)}


def latest_assignment(conversation: Conversation) -> dict | None:
    """The conversation's most recent automatic assignment or return, if any."""
    row = db.session.scalar(sa.select(Assignment).where(Assignment.conversation_id == conversation.id)
                            .order_by(Assignment.id.desc()).limit(1))
    return serialize_assignment(row) if row else None


def serialize_calendar(calendar: BusinessCalendar) -> dict:
    """A business-hours calendar with its windows and holidays."""
    return {"id": calendar.id, "name": calendar.name, "time_zone": calendar.time_zone, "hours": calendar.hours,
            "holidays": calendar.holidays or [], "updated_at": timestamp(calendar.updated_at)}


def serialize_sla_policy(policy: SlaPolicy) -> dict:
    """A queue's SLA targets for one priority level, and how they count time."""
    return {"priority": Priority(policy.priority).label,
            **{f"{target}_minutes": getattr(policy, f"{target}_minutes") for target in TARGETS},
            "business_hours": policy.business_hours, "calendar": policy.calendar.name if policy.calendar else None,
            "at_risk_fraction": policy.at_risk_fraction}


def serialize_incident(incident, counts: dict | None = None) -> dict:
    """An incident (known issue): title, status, what new posts it takes in, the spike that opened it."""
    data = {
        "id": incident.id, "title": incident.title, "status": incident.status,
        "match": {"kind": incident.match_kind, "value": incident.match_value} if incident.match_kind else None,
        "spike": incident.spike, "created_by_id": incident.created_by_id,
        "created_at": timestamp(incident.created_at), "updated_at": timestamp(incident.updated_at),
        "resolved_at": timestamp(incident.resolved_at),
        "answer_macro": {"id": incident.answer_macro.id, "name": incident.answer_macro.name}
        if incident.answer_macro else None,
    }
    if counts is not None:
        data["counts"] = counts
    return data


def serialize_review(review) -> dict:
    """A quality review: the reply scored, its agent, the reviewer, the three scores and the comment."""
    return {
        "id": review.id, "message_id": review.message_id, "conversation_id": review.conversation_id,
        "agent": serialize_agent(review.agent), "reviewer": serialize_agent(review.reviewer),
        "accuracy": review.accuracy, "tone": review.tone, "resolution": review.resolution,
        "comment": review.comment, "reply": review.message.text,
        "created_at": timestamp(review.created_at), "updated_at": timestamp(review.updated_at),
    }


def serialize_notification(notification) -> dict:
    """A notification: what happened, about which conversation or incident, by whom, and whether it was read."""
    return {
        "id": notification.id, "kind": notification.kind, "title": notification.title,
        "conversation_id": notification.conversation_id, "incident_id": notification.incident_id,
        "actor_id": notification.actor_id, "created_at": timestamp(notification.created_at),
        "read_at": timestamp(notification.read_at),
    }


def serialize_push_device(device) -> dict:
    """A device as its owner sees it: the push service's host, never the whole endpoint (a capability URL)."""
    return {"id": device.id, "label": device.label, "push_service": urlsplit(device.endpoint).hostname,
            "created_at": timestamp(device.created_at), "last_sent_at": timestamp(device.last_sent_at),
            "last_error": device.last_error}


def serialize_notification_settings(settings) -> dict:
    """An agent's push settings (muted queues by slug)."""
    slugs = db.session.scalars(sa.select(Queue.slug).where(Queue.id.in_(settings.muted_queue_ids or []))).all()
    return {"kinds": list(settings.kinds), "priorities": list(settings.priorities), "muted_queues": sorted(slugs),
            "time_zone": settings.time_zone, "quiet_start": settings.quiet_start, "quiet_end": settings.quiet_end,
            "only_when_away": settings.only_when_away, "include_text": settings.include_text,
            "webhook_url": settings.webhook_url, "email_enabled": bool(settings.email_enabled),
            "email_address": settings.email_address}


def serialize_on_call_shift(shift) -> dict:
    """One shift of a queue's on-call rota: a weekday's (0 = Monday) or a date's."""
    return {"agent_id": shift.agent_id, "weekday": shift.weekday,
            "date": shift.on_date.isoformat() if shift.on_date else None,
            "start": shift.start, "end": shift.end, "position": shift.position}
