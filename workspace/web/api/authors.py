"""Customers: their profile, history, tags and internal notes."""

from flask import current_app, g, jsonify, request

from workspace.errors import ValidationError
from workspace.serializers import serialize_author, serialize_author_note, serialize_conversation
from workspace.services import customers
from workspace.web.api import bp
from workspace.web.api.conversations import TAGS
from workspace.web.api.openapi import ERROR, ID, PATHS, SCHEMAS, closed, json_body, ref, text
from workspace.web.api.people import links_view, person_view
from workspace.web.auth import agent_required
from workspace.web.validation import page_size


@bp.get("/authors/<int:author_id>")
@agent_required
def get_author(author_id: int):
    """Show a customer with their person (their other channels and custom fields), its links, their notes and
    their latest conversations on any channel (that you may see), newest first; `more_conversations` is the
    cursor for GET .../conversations, the rest of their history."""
    author = customers.visible_author(author_id, g.agent)
    history, more = customers.customer_history(author, g.agent, limit=current_app.config["HISTORY_PAGE_SIZE"])
    return jsonify({**serialize_author(author), "person": person_view(author), "links": links_view(author),
                    "notes": [serialize_author_note(n) for n in customers.customer_notes(author)],
                    "conversations": [serialize_conversation(c) for c in history], "more_conversations": more})


@bp.get("/authors/<int:author_id>/conversations")
@agent_required
def list_author_conversations(author_id: int):
    """A page of a customer's history (conversations you may see), newest first; `cursor` from the previous page."""
    author = customers.visible_author(author_id, g.agent)
    history, more = customers.customer_history(author, g.agent, limit=page_size(), cursor=request.args.get("cursor"))
    return jsonify(data=[serialize_conversation(c) for c in history], next_cursor=more)


@bp.patch("/authors/<int:author_id>")
@agent_required
def update_author(author_id: int):
    """Replace a customer's tags: `{"tags": ["vip", ...]}`."""
    author = customers.visible_author(author_id, g.agent)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or set(body) != {"tags"}:
        raise ValidationError("body: {\"tags\": [...]} is what can be changed", code="invalid_field")
    return jsonify(serialize_author(customers.set_author_tags(author, body["tags"], g.agent)))


@bp.post("/authors/<int:author_id>/notes")
@agent_required
def add_author_note(author_id: int):
    """Add an internal note about a customer."""
    note = customers.add_author_note(customers.visible_author(author_id, g.agent), _body_text(), g.agent)
    return jsonify(serialize_author_note(note)), 201


@bp.patch("/authors/<int:author_id>/notes/<int:note_id>")
@agent_required
def edit_author_note(author_id: int, note_id: int):
    """Change your own note's text (admins may change any)."""
    note = customers.get_note(customers.visible_author(author_id, g.agent), note_id)
    return jsonify(serialize_author_note(customers.edit_author_note(note, _body_text(), g.agent)))


@bp.delete("/authors/<int:author_id>/notes/<int:note_id>")
@agent_required
def delete_author_note(author_id: int, note_id: int):
    """Delete your own note (admins may delete any)."""
    customers.delete_author_note(customers.get_note(customers.visible_author(author_id, g.agent), note_id), g.agent)
    return "", 204


def _body_text():
    body = request.get_json(silent=True)
    return body.get("text") if isinstance(body, dict) else None


SCHEMAS["AuthorNote"] = {
    "type": "object", "required": ["id", "text", "agent", "created_at", "updated_at"],
    "properties": {"id": {"type": "integer"}, "text": {"type": "string"}, "agent": ref("Agent"),
                   "created_at": {"type": "string"}, "updated_at": {"type": "string"}},
}
_AUTHOR = [{"name": "author_id", "in": "path", "required": True, "schema": ID}]
_NOTE = _AUTHOR + [{"name": "note_id", "in": "path", "required": True, "schema": ID}]
_TEXT = {"required": True, "content": {"application/json": {"schema": closed(
    {"text": text(customers.MAX_NOTE_CHARS)}, required=("text",))}}}
PATHS["/api/v1/authors/{author_id}/conversations"] = {"get": {
    "operationId": "list_author_conversations", "summary": "A page of a customer's history, newest first.",
    "parameters": [*_AUTHOR, {"name": "cursor", "in": "query", "schema": {"type": "string", "maxLength": 200}},
                   {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}}],
    "responses": {"200": json_body({"type": "object", "required": ["data", "next_cursor"], "properties": {
        "data": {"type": "array", "items": ref("Conversation")}, "next_cursor": {"type": ["string", "null"]}}},
        "A page of conversations."), "400": ERROR, "401": ERROR, "404": ERROR}}}
PATHS["/api/v1/authors/{author_id}"]["patch"] = {
    "operationId": "update_author", "summary": "Replace a customer's tags.", "parameters": _AUTHOR,
    "requestBody": {"required": True, "content": {"application/json": {"schema": closed(
        {"tags": TAGS}, required=("tags",))}}},
    "responses": {"200": json_body(ref("Author"), "The customer."), "400": ERROR, "401": ERROR, "404": ERROR}}
PATHS["/api/v1/authors/{author_id}/notes"] = {"post": {
    "operationId": "add_author_note", "summary": "Add an internal note about a customer.", "parameters": _AUTHOR,
    "requestBody": _TEXT,
    "responses": {"201": json_body(ref("AuthorNote"), "The note."), "400": ERROR, "401": ERROR, "404": ERROR}}}
PATHS["/api/v1/authors/{author_id}/notes/{note_id}"] = {
    "patch": {"operationId": "edit_author_note", "summary": "Change a note.", "parameters": _NOTE,
              "requestBody": _TEXT,
              "responses": {"200": json_body(ref("AuthorNote"), "The note."), "400": ERROR, "401": ERROR,
                            "403": ERROR, "404": ERROR}},
    "delete": {"operationId": "delete_author_note", "summary": "Delete a note.", "parameters": _NOTE,
               "responses": {"204": {"description": "Deleted."}, "401": ERROR, "403": ERROR, "404": ERROR}}}
