"""Merging duplicate conversations, splitting one in two, and undoing either (one at a time or a selection)."""

from flask import g, jsonify

from workspace.extensions import db
from workspace.models import Conversation, ConversationMerge
from workspace.serializers import timestamp
from workspace.services.conversations import merging
from workspace.services.conversations.actions import ensure_visible
from workspace.web.api import bp
from workspace.web.api.openapi import ERROR, ID, PATHS, SCHEMAS, closed, json_body, ref
from workspace.web.auth import agent_required
from workspace.web.validation import json_object

# Conversations one bulk merge takes, and messages one split of a selection takes.
MAX_SELECTION = 100


def serialize_merge(record: ConversationMerge) -> dict:
    """A merge or split: what moved from where to where, and whether it was undone."""
    return {"id": record.id, "kind": record.kind, "source_id": record.source_id, "target_id": record.target_id,
            "messages": len(record.message_ids or []), "created_at": timestamp(record.created_at),
            "undone_at": timestamp(record.undone_at)}


def _visible(conversation_id: int) -> Conversation:
    return ensure_visible(db.session.get(Conversation, conversation_id), g.agent)


@bp.post("/conversations/<int:conversation_id>/merge")
@agent_required
def merge_conversation(conversation_id: int):
    """Merge this conversation (a duplicate) into `into`: messages, tags, SLA and assignee go there."""
    source = _visible(conversation_id)
    target = _visible(json_object()["into"])
    return jsonify(serialize_merge(merging.merge(source, target, g.agent)))


@bp.post("/conversations/merge")
@agent_required
def merge_conversations():
    """Merge a selection of conversations into `into`, each checked first; one merge (undoable) per conversation."""
    body = json_object()
    target = _visible(body["into"])
    sources = [_visible(i) for i in dict.fromkeys(body["ids"]) if i != target.id]
    return jsonify(data=[serialize_merge(merging.merge(source, target, g.agent)) for source in sources])


@bp.post("/conversations/<int:conversation_id>/split")
@agent_required
def split_conversation(conversation_id: int):
    """Move `message_id` and every later message into a new conversation."""
    record = merging.split(_visible(conversation_id), json_object()["message_id"], g.agent)
    return jsonify(serialize_merge(record)), 201


@bp.post("/conversations/<int:conversation_id>/split-messages")
@agent_required
def split_conversation_messages(conversation_id: int):
    """Move exactly the selected `message_ids` together into one new conversation (one undoable split)."""
    record = merging.split_messages(_visible(conversation_id), json_object()["message_ids"], g.agent)
    return jsonify(serialize_merge(record)), 201


@bp.post("/conversation-merges/<int:merge_id>/undo")
@agent_required
def undo_conversation_merge(merge_id: int):
    """Undo a merge or split: the messages it moved (and posts that followed) go back."""
    record = merging.get_record(merge_id)
    _visible(record.source_id), _visible(record.target_id)
    return jsonify(serialize_merge(merging.undo(record, g.agent)))


SCHEMAS["ConversationMerge"] = {
    "type": "object", "required": ["id", "kind", "source_id", "target_id", "messages", "created_at", "undone_at"],
    "properties": {"id": {"type": "integer"}, "kind": {"enum": ["merge", "split"]},
                   "source_id": {"type": "integer", "description": "the duplicate, or the conversation split"},
                   "target_id": {"type": "integer", "description": "where the messages went"},
                   "messages": {"type": "integer"}, "created_at": {"type": "string"},
                   "undone_at": {"type": ["string", "null"]}},
}
_ID = [{"name": "conversation_id", "in": "path", "required": True, "schema": ID}]
_RECORD = json_body(ref("ConversationMerge"), "The merge or split.")
_FAIL = {"400": ERROR, "401": ERROR, "404": ERROR, "409": ERROR}
PATHS["/api/v1/conversations/{conversation_id}/merge"] = {"post": {
    "operationId": "merge_conversation", "summary": "Merge a duplicate into another conversation.",
    "description": "A private conversation merges only with a private one of the same customer and channel "
                   "(400 private_mismatch); a conversation already merged is 409.",
    "parameters": _ID, "requestBody": {"required": True, "content": {"application/json": {"schema": closed(
        {"into": ID}, required=("into",))}}},
    "responses": {"200": _RECORD, **_FAIL}}}
PATHS["/api/v1/conversations/merge"] = {"post": {
    "operationId": "merge_conversations", "summary": "Merge a selection of conversations into one.",
    "requestBody": {"required": True, "content": {"application/json": {"schema": closed(
        {"ids": {"type": "array", "items": ID, "minItems": 1, "maxItems": MAX_SELECTION}, "into": ID},
        required=("ids", "into"))}}},
    "responses": {"200": json_body({"type": "object", "required": ["data"], "properties": {
        "data": {"type": "array", "items": ref("ConversationMerge")}}}, "One merge per conversation."), **_FAIL}}}
PATHS["/api/v1/conversations/{conversation_id}/split"] = {"post": {
    "operationId": "split_conversation", "summary": "Split a message and what follows into a new conversation.",
    "parameters": _ID, "requestBody": {"required": True, "content": {"application/json": {"schema": closed(
        {"message_id": ID}, required=("message_id",))}}},
    "responses": {"201": json_body(ref("ConversationMerge"), "The split; target_id is the new conversation."),
                  **_FAIL}}}
PATHS["/api/v1/conversations/{conversation_id}/split-messages"] = {"post": {
    "operationId": "split_conversation_messages",
    "summary": "Split a selection of messages together into one new conversation.",
    "description": "Exactly the messages named move (the others stay, in place); every one must be a message of "
                   "this conversation and at least one must stay (else 400). One split record: one undo "
                   "takes them all back.",
    "parameters": _ID, "requestBody": {"required": True, "content": {"application/json": {"schema": closed(
        {"message_ids": {"type": "array", "items": ID, "minItems": 1, "maxItems": MAX_SELECTION}},
        required=("message_ids",))}}},
    "responses": {"201": json_body(ref("ConversationMerge"), "The split; target_id is the new conversation."),
                  **_FAIL}}}
PATHS["/api/v1/conversation-merges/{merge_id}/undo"] = {"post": {
    "operationId": "undo_conversation_merge", "summary": "Undo a merge or split.",
    "parameters": [{"name": "merge_id", "in": "path", "required": True, "schema": ID}],
    "responses": {"200": _RECORD, "401": ERROR, "404": ERROR, "409": ERROR}}}
