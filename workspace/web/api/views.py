"""Saved views: an agent's or a team's named filter sets, with their counts and their conversations."""

from flask import g, jsonify, request

from workspace.models import STATUSES, Priority, SavedView
from workspace.serializers import serialize_conversation, timestamp
from workspace.services import views
from workspace.services.conversations.queues import previews
from workspace.web.api import bp
from workspace.web.api.openapi import ERROR, ID, PAGE_LIMIT, PATHS, SCHEMAS, closed, json_body, list_of, ref
from workspace.web.auth import agent_required
from workspace.web.validation import page_size


def serialize_view(view: SavedView, count: int | None = None) -> dict:
    """A view: its name, owner, team and filters (and how many conversations it shows the caller)."""
    data = {"id": view.id, "name": view.name, "owner_id": view.owner_id,
            "team_queue": view.team_queue.slug if view.team_queue else None, "filters": view.filters,
            "created_at": timestamp(view.created_at), "updated_at": timestamp(view.updated_at)}
    if count is not None:
        data.update(count=count, count_capped=count >= views.COUNT_CAP)
    return data


@bp.get("/views")
@agent_required
def list_views():
    """Your views and your teams', by name, each with how many conversations it shows you."""
    return jsonify(data=[serialize_view(view, views.count(view, g.agent)) for view in views.visible_views(g.agent)])


@bp.post("/views")
@agent_required
def create_view():
    """Save a named filter set (shared with a queue's agents when `team_queue` names one)."""
    view = views.save_view(None, request.get_json(silent=True), g.agent)
    return jsonify(serialize_view(view, views.count(view, g.agent))), 201


@bp.get("/views/<int:view_id>")
@agent_required
def get_view(view_id: int):
    """One of your views or your teams'."""
    view = views.get_view(view_id, g.agent)
    return jsonify(serialize_view(view, views.count(view, g.agent)))


@bp.patch("/views/<int:view_id>")
@agent_required
def update_view(view_id: int):
    """Rename a view you own, share or unshare it, or change its filters."""
    view = views.save_view(view_id, request.get_json(silent=True), g.agent)
    return jsonify(serialize_view(view, views.count(view, g.agent)))


@bp.delete("/views/<int:view_id>")
@agent_required
def delete_view(view_id: int):
    """Delete a view you own."""
    views.delete_view(view_id, g.agent)
    return "", 204


@bp.get("/views/<int:view_id>/conversations")
@agent_required
def list_view_conversations(view_id: int):
    """The view's conversations (in your queues) in work order, one page at a time."""
    view = views.get_view(view_id, g.agent)
    found, next_cursor = views.conversations(view, g.agent, limit=page_size(), cursor=request.args.get("cursor"))
    texts = previews([c.id for c in found])
    return jsonify(data=[serialize_conversation(c, preview=texts.get(c.id, "")) for c in found],
                   next_cursor=next_cursor)


_FILTERS = {
    "queue": {"type": ["string", "null"], "maxLength": 64, "description": "a queue slug"},
    "status": {"enum": list(STATUSES), "description": "default open"},
    "tags": {"type": "array", "maxItems": views.MAX_TAGS, "items": {"type": "string", "minLength": 1,
                                                                    "maxLength": 64, "pattern": '^[^"]*$'},
             "description": "conversations carrying every one of them"},
    "channel": {"type": ["string", "null"], "maxLength": 64, "description": "a channel slug"},
    "assignee": {"oneOf": [{"enum": ["me", "none", "any", None]}, {**ID}],
                 "description": "me (whoever looks), none (unassigned), any, or an agent id"},
    "priority": {"enum": [None, *(p.label for p in Priority)]},
    "text": {"type": ["string", "null"], "maxLength": views.MAX_TEXT_CHARS,
             "description": "search text (as the search box takes it)"}}
SCHEMAS["SavedView"] = {
    "type": "object", "required": ["id", "name", "owner_id", "team_queue", "filters"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "owner_id": {"type": "integer"},
                   "team_queue": {"type": ["string", "null"], "description": "shared with this queue's agents"},
                   "filters": {"type": "object"}, "created_at": {"type": "string"}, "updated_at": {"type": "string"},
                   "count": {"type": "integer",
                             "description": f"conversations it shows you, at most {views.COUNT_CAP}"},
                   "count_capped": {"type": "boolean", "description": "the count reached its cap"}}}
_FIELDS = {"name": {"type": "string", "minLength": 1, "maxLength": views.MAX_NAME_CHARS},
           "team_queue": {"type": ["string", "null"], "maxLength": 64,
                          "description": "a queue you work: its agents see the view too (null: yours alone)"},
           "filters": closed(_FILTERS)}
_ERRORS = {"400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR}
_ID = [{"name": "view_id", "in": "path", "required": True, "schema": ID}]


def _body(required: tuple = ()) -> dict:
    return {"required": True, "content": {"application/json": {"schema": closed(_FIELDS, required=required)}}}


PATHS["/api/v1/views"] = {
    "get": {"operationId": "list_views", "summary": "Your saved views and your teams', with counts.",
            "responses": {"200": list_of("SavedView"), "401": ERROR, "403": ERROR}},
    "post": {"operationId": "create_view", "summary": "Save a view (a named filter set).",
             "requestBody": _body(("name",)), "responses": {"201": json_body(ref("SavedView"), "Created."), **_ERRORS}}}
PATHS["/api/v1/views/{view_id}"] = {
    "get": {"operationId": "get_view", "summary": "One of your views (or your teams').", "parameters": _ID,
            "responses": {"200": json_body(ref("SavedView"), "The view."), "401": ERROR, "403": ERROR, "404": ERROR}},
    "patch": {"operationId": "update_view", "summary": "Change a view you own.", "parameters": _ID,
              "requestBody": _body(), "responses": {"200": json_body(ref("SavedView"), "Changed."), **_ERRORS}},
    "delete": {"operationId": "delete_view", "summary": "Delete a view you own.", "parameters": _ID,
               "responses": {"204": {"description": "Deleted."}, "401": ERROR, "403": ERROR, "404": ERROR}}}
PATHS["/api/v1/views/{view_id}/conversations"] = {"get": {
    "operationId": "list_view_conversations", "summary": "A view's conversations in work order, a page at a time.",
    "parameters": [*_ID, PAGE_LIMIT, {"name": "cursor", "in": "query", "schema": {"type": "string"}}],
    "responses": {"200": list_of("Conversation"), "400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR}}}
