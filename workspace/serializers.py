"""One serializer per resource, shared by the REST API and the socket events."""

from datetime import datetime

from .models import NOT_DUE, Agent, Author, Channel, Conversation, Message, Priority, Queue


def timestamp(moment: datetime | None) -> str | None:
    """Format a UTC datetime as ISO 8601 with a Z."""
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def serialize_channel(channel: Channel) -> dict:
    """A channel without its secret."""
    return {"id": channel.id, "slug": channel.slug, "name": channel.name, "kind": channel.kind,
            "enabled": channel.enabled}


def serialize_queue(queue: Queue, counts: dict | None = None) -> dict:
    """A queue, with its live counts when given."""
    data = {"id": queue.id, "slug": queue.slug, "name": queue.name, "description": queue.description}
    if counts is not None:
        data["counts"] = counts
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
        "created_at": timestamp(author.created_at),
    }


def serialize_author_note(note) -> dict:
    """An internal note about a customer, with who wrote it and when."""
    return {"id": note.id, "text": note.text, "agent": serialize_agent(note.agent),
            "created_at": timestamp(note.created_at), "updated_at": timestamp(note.updated_at)}


def serialize_message(message: Message) -> dict:
    """One message; text is returned as data, for the client to escape."""
    return {
        "id": message.id, "direction": message.direction, "external_id": message.external_id,
        "author_id": message.author_id, "agent": serialize_agent(message.agent),
        "subject": message.subject, "text": message.text, "url": message.url,
        "in_reply_to": message.in_reply_to, "created_at": timestamp(message.created_at),
        "received_at": timestamp(message.received_at), "delivery_status": message.delivery_status,
        "delivery_error": message.delivery_error,
    }


def serialize_conversation(conversation: Conversation, *, detail: bool = False, preview: str | None = None) -> dict:
    """A conversation as listed (with the start of its latest post, when given); with detail,
    its messages, author and explanation."""
    data = {
        "id": conversation.id,
        "status": conversation.status,
        "queue": conversation.queue.slug if conversation.queue else None,
        "channel": conversation.channel.slug,
        "priority": Priority(conversation.priority).label,
        "priority_score": round(conversation.priority_score, 3),
        "subject": conversation.subject,
        "tags": conversation.tags or [],
        "assignee": serialize_agent(conversation.assignee),
        "author": {"id": conversation.author.id, "handle": conversation.author.handle,
                   "name": conversation.author.name, "followers": conversation.author.followers,
                   "verified": conversation.author.verified, "tags": conversation.author.tags or []},
        "sla_due_at": timestamp(conversation.sla_due_at) if conversation.sla_due_at != NOT_DUE else None,
        "created_at": timestamp(conversation.created_at),
        "updated_at": timestamp(conversation.updated_at),
        "last_message_at": timestamp(conversation.last_message_at),
        "snoozed_until": timestamp(conversation.snoozed_until),
    }
    explanation = conversation.explanation or {}
    data["sentiment"] = explanation.get("sentiment")
    data["priority_reasons"] = [
        {"factor": c.get("factor"), "detail": c.get("detail"), "points": c.get("points")}
        for c in (explanation.get("priority") or {}).get("contributions", [])
    ]
    if preview is not None:
        data["preview"] = preview
    if detail:
        data["author"] = serialize_author(conversation.author)
        data["messages"] = [serialize_message(m) for m in conversation.messages]
        data["explanation"] = conversation.explanation
        data["routed_at"] = timestamp(conversation.routed_at)
    return data
