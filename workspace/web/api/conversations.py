"""Conversations: read, change, reply, note, and get the next one to work."""

from flask import current_app, g, jsonify, request

from workspace.channels.registry import DEFAULT_REPLY_LIMIT as MAX_REPLY_CHARS
from workspace.errors import NotFound
from workspace.extensions import db
from workspace.models import Conversation
from workspace.serializers import serialize_conversation, serialize_message, serialize_rating
from workspace.services import satisfaction
from workspace.services.conversations import actions as service
from workspace.services.conversations.actions import MAX_TAG_CHARS, MAX_TAGS, SETTABLE_STATUSES
from workspace.services.conversations.claims import get_next
from workspace.services.conversations.replies import add_note, reply
from workspace.services.conversations.threads import thread_page
from workspace.web.api import bp
from workspace.web.api.email import EMAIL_FIELDS, EMAIL_REPLY_FIELDS
from workspace.web.api.openapi import ERROR, ID, PATHS, closed, ref, text
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
    """A conversation in full, with its newest THREAD_PAGE_SIZE messages, the cursor to the earlier ones and the
    customer's survey answer (null until they give one)."""
    page = thread_page(conversation.id, limit=current_app.config["THREAD_PAGE_SIZE"])
    return {**serialize_conversation(conversation, thread=page),
            "satisfaction": serialize_rating(satisfaction.rating_of(conversation.id))}


@bp.patch("/conversations/<int:conversation_id>")
@agent_required
def update_conversation(conversation_id: int):
    """Change queue (a correction the classifier learns from), status, assignee, tags or priority."""
    conversation = _load(conversation_id)
    body = request.get_json()  # an object of CHANGES' fields, at least one: the API document's check (web.auth)
    for field, change in CHANGES.items():
        if field in body:
            change(conversation, body[field], g.agent)
    return jsonify(conversation_detail(_load(conversation_id)))


@bp.post("/conversations/<int:conversation_id>/replies")
@agent_required
def reply_to_conversation(conversation_id: int):
    """Reply to the customer; delivery is queued and its state shows on the message."""
    conversation = _load(conversation_id)
    body = request.get_json()
    fields = {name: body[name] for name in EMAIL_FIELDS if name in body}
    return jsonify(serialize_message(reply(conversation, body["text"], g.agent, email_fields=fields))), 201


@bp.post("/conversations/<int:conversation_id>/notes")
@agent_required
def note_conversation(conversation_id: int):
    """Add an internal note (agents only see it)."""
    conversation = _load(conversation_id)
    return jsonify(serialize_message(add_note(conversation, request.get_json()["text"], g.agent))), 201


@bp.post("/conversations/next")
@agent_required
def take_next_conversation():
    """Claim the most urgent unassigned open conversation of your queues (or of `queue`)."""
    queue = json_object(optional=True).get("queue")  # a string if there: the API document's check
    conversation = get_next(g.agent, queue)
    if conversation is None:
        raise NotFound("nothing waiting in your queues", code="nothing_waiting")
    return jsonify(conversation_detail(_load(conversation.id)))


def _load(conversation_id: int) -> Conversation:
    return service.ensure_visible(db.session.get(Conversation, conversation_id), g.agent)


_ID = [{"name": "conversation_id", "in": "path", "required": True, "schema": ID}]
_DETAIL = {"description": "The conversation.", "content": {"application/json": {"schema": ref("ConversationDetail")}}}
_MESSAGE = {"description": "The stored message.", "content": {"application/json": {"schema": ref("Message")}}}
_TEXT = {"required": True, "content": {"application/json": {"schema": closed(
    {"text": text(MAX_REPLY_CHARS)}, required=("text",))}}}
_FAIL = {"400": ERROR, "401": ERROR, "404": ERROR}
# Tags as clean_tags takes them: blank ones are dropped, the rest trimmed and lower-cased.
TAGS = {"type": "array", "maxItems": MAX_TAGS, "items": text(MAX_TAG_CHARS, blank=True)}
ASSIGNEE = {"oneOf": [ID, {"const": "me"}, {"type": "null"}]}
PATHS["/api/v1/conversations/{conversation_id}"]["get"]["parameters"] = _ID
PATHS["/api/v1/conversations/{conversation_id}/messages"] = {"get": {
    "operationId": "list_conversation_messages",
    "summary": "A page of the thread, oldest first, before message `before`; `earlier_messages` pages further back.",
    "parameters": [*_ID, {"name": "before", "in": "query", "schema": ID},
                   {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}}],
    "responses": {"200": {"description": "The messages.", "content": {"application/json": {"schema": {
        "type": "object", "required": ["data", "earlier_messages"],
        "properties": {"data": {"type": "array", "items": ref("Message")},
                       "earlier_messages": {"type": ["integer", "null"]}}}}}}, **_FAIL}}}
PATHS["/api/v1/conversations/{conversation_id}"]["patch"] = {
    "operationId": "update_conversation",
    "summary": "Change queue, status, assignee, tags or priority; each change is audited and sent live.",
    "description": ("A queue slug that names no queue is a 404; a conversation still being routed (status new) "
                    "refuses changes of queue and status (400 not_routed); an agent who does not work the queue "
                    "cannot be assigned (400 not_a_member)."),
    "parameters": _ID,
    "requestBody": {"required": True, "content": {"application/json": {"schema": closed({
        "queue": {"type": "string", "description": "destination queue slug (teaches the classifier)"},
        "status": {"enum": list(SETTABLE_STATUSES)}, "assignee": ASSIGNEE, "tags": TAGS,
        "priority": {"enum": ["urgent", "high", "normal", "low"]}}, minProperties=1)}}},
    "responses": {"200": _DETAIL, **_FAIL},
}
PATHS["/api/v1/conversations/{conversation_id}/replies"] = {"post": {
    "operationId": "reply_to_conversation", "summary": "Reply to the customer (delivery is queued).",
    "description": ("A reply longer than its channel allows (280 on X, links counted as 23) is 400 reply_too_long. "
                    "On an email conversation the reply may set cc (absent: whom the customer's latest mail "
                    "copied), bcc (envelope only) and attachments (base64; over the size limit 400 "
                    "attachments_too_large); on any other channel those are 400 not_email. The queue's signature "
                    "is appended to the mail."),
    "parameters": _ID, "requestBody": {"required": True, "content": {"application/json": {"schema": closed(
        {"text": text(MAX_REPLY_CHARS), **EMAIL_REPLY_FIELDS}, required=("text",))}}},
    "responses": {"201": _MESSAGE, "413": ERROR, **_FAIL}}}
PATHS["/api/v1/conversations/{conversation_id}/notes"] = {"post": {
    "operationId": "note_conversation", "summary": "Add an internal note.", "parameters": _ID, "requestBody": _TEXT,
    "responses": {"201": _MESSAGE, **_FAIL}}}
PATHS["/api/v1/conversations/next"] = {"post": {
    "operationId": "take_next_conversation",
    "summary": "Claim the most urgent unassigned open conversation of your queues; never the same to two agents.",
    "requestBody": {"content": {"application/json": {"schema": closed({"queue": {"type": "string"}})}}},
    "responses": {"200": _DETAIL, **_FAIL}}}
