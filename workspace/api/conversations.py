"""One conversation with its thread."""

import sqlalchemy.orm as so
from flask import g, jsonify, request

from ..auth import token_required
from ..errors import NotFound, ValidationError
from ..extensions import db
from ..models import Conversation, Message
from ..serializers import serialize_conversation
from ..services.conversations import move_conversation
from . import bp
from .openapi import ERROR, PATHS, ref


@bp.get("/conversations/<int:conversation_id>")
@token_required
def get_conversation(conversation_id: int):
    """Show a conversation: its messages, author and routing explanation."""
    return jsonify(serialize_conversation(_load(conversation_id), detail=True))


# What PATCH can change on a conversation, and the service that changes it.
CHANGES = {"queue": move_conversation}


@bp.patch("/conversations/<int:conversation_id>")
@token_required
def update_conversation(conversation_id: int):
    """Change a conversation: `{"queue": slug}` moves it (a correction the classifier learns from)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not body:
        raise ValidationError(f"body: a JSON object with one of: {', '.join(CHANGES)}", code="invalid_field")
    unknown = sorted(set(body) - set(CHANGES))
    if unknown:
        raise ValidationError(f"{unknown[0]}: cannot be changed here (fields: {', '.join(CHANGES)})",
                              code="invalid_field")
    conversation = _load(conversation_id)
    for field, change in CHANGES.items():
        if field in body:
            change(conversation, body[field], g.agent)
    return jsonify(serialize_conversation(_load(conversation_id), detail=True))


def _load(conversation_id: int) -> Conversation:
    conversation = db.session.get(
        Conversation, conversation_id,
        options=[so.selectinload(Conversation.messages).joinedload(Message.agent)],
    )
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    return conversation


PATHS["/api/v1/conversations/{conversation_id}"]["patch"] = {
    "operationId": "update_conversation",
    "summary": "Change a conversation; moving it to another queue teaches the classifier.",
    "parameters": PATHS["/api/v1/conversations/{conversation_id}"]["get"]["parameters"],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "properties": {"queue": {"type": "string", "description": "destination queue slug"}}}}}},
    "responses": {"200": {"description": "The changed conversation.",
                          "content": {"application/json": {"schema": ref("ConversationDetail")}}},
                  "400": ERROR, "401": ERROR, "404": ERROR},
}
