"""Known issues beside a conversation: the open incidents it belongs to, or whose phrase its newest post matches."""

import sqlalchemy as sa

from routing.spikes import matches_phrase
from workspace.extensions import db
from workspace.models import Agent, Conversation, Incident, Message, incident_conversations
from workspace.services.responses.library import can_use


def known_issues(conversation: Conversation, agent: Agent) -> list[dict]:
    """Open incidents holding the conversation or matching its newest post's phrase, newest first, each with the
    macro that answers it (when the agent may use it)."""
    members = set(db.session.scalars(sa.select(incident_conversations.c.incident_id).where(
        incident_conversations.c.conversation_id == conversation.id)))
    text = db.session.scalar(sa.select(Message.text).where(
        Message.conversation_id == conversation.id, Message.direction == "inbound").order_by(Message.id.desc())
        .limit(1)) or ""
    found = []
    for incident in db.session.scalars(sa.select(Incident).where(Incident.status == "open")
                                       .order_by(Incident.id.desc())):
        joined = incident.id in members
        if joined or (incident.match_kind == "phrase" and matches_phrase(text, incident.match_value)):
            macro = incident.answer_macro if incident.answer_macro and can_use(agent, incident.answer_macro) else None
            found.append({"id": incident.id, "title": incident.title, "member": joined,
                          "answer_macro": {"id": macro.id, "name": macro.name} if macro else None})
    return found
