"""Conversations: read, change, reply, note, and get the next one to work."""

from flask import current_app, g, jsonify, request

from workspace.errors import NotFound, ValidationError
from workspace.extensions import db
from workspace.models import Conversation
from workspace.serializers import serialize_conversation, serialize_message
from workspace.services.conversations import actions as service
from workspace.services.conversations.claims import get_next
from workspace.services.conversations.replies import add_note, reply
from workspace.services.conversations.threads import thread_page
from workspace.web.api import bp
from workspace.web.api.openapi import ERROR, PATHS, ref
from workspace.web.auth import agent_required
from workspace.web.validation import json_object, page_size, whole_number

# What PATCH can change on a conversation, and the service that changes it.
CHANGES = {"queue": service.move_conversation, "status": service.set_status, "assignee": service.assign,
           "tags": service.set_tags, "priority": service.set_priority}


@bp.get("/conversations/<int:conversation_id>")
@agent_required
def get_conversation(conversation_id: int):
    """Show a conversation: its newest messages (`earlier_messages` pages back), author and routing explanation."""
    return jsonify(conversation_detail(_load(conversation_id)))


@bp.get("/conversations/<int:conversation_id>/messages")
@agent_required
def list_conversation_messages(conversation_id: int):
    """A page of a conversation's messages, oldest first, before the message `before` (the newest by default)."""
    conversation = _load(conversation_id)
    messages, earlier = thread_page(conversation.id, limit=page_size(), before=whole_number("before", low=1))
    return jsonify(data=[serialize_message(m) for m in messages], earlier_messages=earlier)


def conversation_detail(conversation: Conversation) -> dict:
    """A conversation in full, with its newest THREAD_PAGE_SIZE messages and the cursor to the earlier ones."""
    page = thread_page(conversation.id, limit=current_app.config["THREAD_PAGE_SIZE"])
    return serialize_conversation(conversation, detail=True, messages=page)


@bp.patch("/conversations/<int:conversation_id>")
@agent_required
def update_conversation(conversation_id: int):
    """Change queue (a correction the classifier learns from), status, assignee, tags or priority."""
    conversation = _load(conversation_id)  # first: one the agent may not see is 404 whatever the body
    body = _object(request.get_json(silent=True), f"one or more of: {', '.join(CHANGES)}")
    unknown = sorted(set(body) - set(CHANGES))
    if unknown:
        raise ValidationError(f"{unknown[0]}: cannot be changed here (fields: {', '.join(CHANGES)})",
                              code="invalid_field")
    for field, change in CHANGES.items():
        if field in body:
            change(conversation, body[field], g.agent)
    return jsonify(conversation_detail(_load(conversation_id)))


@bp.post("/conversations/<int:conversation_id>/replies")
@agent_required
def reply_to_conversation(conversation_id: int):
    """Reply to the customer; delivery is queued and its state shows on the message."""
    conversation = _load(conversation_id)  # first: one the agent may not see is 404 whatever the body
    body = _object(request.get_json(silent=True), "text")
    return jsonify(serialize_message(reply(conversation, body.get("text"), g.agent))), 201


@bp.post("/conversations/<int:conversation_id>/notes")
@agent_required
def note_conversation(conversation_id: int):
    """Add an internal note (agents only see it)."""
    conversation = _load(conversation_id)  # first: one the agent may not see is 404 whatever the body
    body = _object(request.get_json(silent=True), "text")
    return jsonify(serialize_message(add_note(conversation, body.get("text"), g.agent))), 201


@bp.post("/conversations/next")
@agent_required
def take_next_conversation():
    """Claim the most urgent unassigned open conversation of your queues (or of `queue`)."""
    queue = json_object(optional=True).get("queue")
    if queue is not None and not isinstance(queue, str):
        raise ValidationError("queue: must be a queue's slug (a string)", code="invalid_field")
    conversation = get_next(g.agent, queue)
    if conversation is None:
        raise NotFound("nothing waiting in your queues", code="nothing_waiting")
    return jsonify(conversation_detail(_load(conversation.id)))


def _object(body, wanted: str) -> dict:
    if not isinstance(body, dict) or not body:
        raise ValidationError(f"body: a JSON object with {wanted}", code="invalid_field")
    return body


def _load(conversation_id: int) -> Conversation:
    return service.ensure_visible(db.session.get(Conversation, conversation_id), g.agent)


_ID = [{"name": "conversation_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_DETAIL = {"description": "The conversation.", "content": {"application/json": {"schema": ref("ConversationDetail")}}}
_MESSAGE = {"description": "The stored message.", "content": {"application/json": {"schema": ref("Message")}}}
_TEXT = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["text"], "properties": {"text": {"type": "string", "minLength": 1}}}}}}
PATHS["/api/v1/conversations/{conversation_id}/messages"] = {"get": {
    "operationId": "list_conversation_messages",
    "summary": "A page of the thread, oldest first, before message `before`; `earlier_messages` pages further back.",
    "parameters": [*_ID, {"name": "before", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                   {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}}],
    "responses": {"200": {"description": "The messages.", "content": {"application/json": {"schema": {
        "type": "object", "required": ["data", "earlier_messages"],
        "properties": {"data": {"type": "array", "items": ref("Message")},
                       "earlier_messages": {"type": ["integer", "null"]}}}}}},
                  "400": ERROR, "401": ERROR, "404": ERROR}}}
PATHS["/api/v1/conversations/{conversation_id}"]["patch"] = {
    "operationId": "update_conversation",
    "summary": "Change queue, status, assignee, tags or priority; each change is audited and sent live.",
    "parameters": _ID,
    "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object", "properties": {
        "queue": {"type": "string", "description": "destination queue slug (teaches the classifier)"},
        "status": {"enum": ["open", "pending", "resolved", "spam"]},
        "assignee": {"oneOf": [{"type": "integer"}, {"const": "me"}, {"type": "null"}]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "priority": {"enum": ["urgent", "high", "normal", "low"]}}}}}},
    "responses": {"200": _DETAIL, "400": ERROR, "401": ERROR, "404": ERROR},
}
PATHS["/api/v1/conversations/{conversation_id}/replies"] = {"post": {
    "operationId": "reply_to_conversation", "summary": "Reply to the customer (delivery is queued).",
    "parameters": _ID, "requestBody": _TEXT,
    "responses": {"201": _MESSAGE, "400": ERROR, "401": ERROR, "404": ERROR}}}
PATHS["/api/v1/conversations/{conversation_id}/notes"] = {"post": {
    "operationId": "note_conversation", "summary": "Add an internal note.", "parameters": _ID, "requestBody": _TEXT,
    "responses": {"201": _MESSAGE, "400": ERROR, "401": ERROR, "404": ERROR}}}
PATHS["/api/v1/conversations/next"] = {"post": {
    "operationId": "take_next_conversation",
    "summary": "Claim the most urgent unassigned open conversation of your queues; never the same to two agents.",
    "requestBody": {"content": {"application/json": {"schema": {
        "type": "object", "properties": {"queue": {"type": "string"}}}}}},
    "responses": {"200": _DETAIL, "400": ERROR, "401": ERROR, "404": ERROR}}}
