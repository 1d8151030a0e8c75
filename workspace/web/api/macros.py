"""Macros: list and search, create, change, delete, preview, apply, import and export."""

from flask import g, jsonify, request

from macros.actions import PARSERS
from workspace.errors import ValidationError
from workspace.extensions import db
from workspace.models import SCOPES, Conversation, Macro, is_id
from workspace.serializers import serialize_agent, timestamp
from workspace.services.conversations.actions import ensure_visible
from workspace.services.responses import library as service
from workspace.web.api import bp
from workspace.web.api.openapi import ERROR, ID, PATHS, SCHEMAS, closed, json_body, ref, text
from workspace.web.auth import agent_required, role_required


def serialize_macro(macro: Macro, agent, usage: tuple[int, int] = (0, 0)) -> dict:
    """A macro as the API shows it, with the caller's and everyone's use counts."""
    return {"id": macro.id, **service.snapshot(macro),
            "owner": serialize_agent(macro.owner), "usage": {"mine": usage[0], "total": usage[1]},
            "can_manage": service.can_manage(agent, macro),
            "created_at": timestamp(macro.created_at), "updated_at": timestamp(macro.updated_at)}


def _one(macro: Macro) -> dict:
    return serialize_macro(macro, g.agent, service.usage_counts(g.agent, macro.id).get(macro.id, (0, 0)))


@bp.get("/macros")
@agent_required
def list_macros():
    """Macros you may use, best first: by match with `q` (name, description, body), then by use."""
    text = request.args.get("q", "")
    if len(text) > 200:
        raise ValidationError("q: at most 200 characters", code="invalid_field")
    found = service.search_macros(g.agent, text, managed=request.args.get("manage") == "1")
    return jsonify(data=[serialize_macro(macro, g.agent, usage) for macro, usage in found])


@bp.post("/macros")
@agent_required
def create_macro():
    """Create a macro: personal (anyone), team (supervisors) or global (admins)."""
    return jsonify(_one(service.create_macro(request.get_json(silent=True), g.agent))), 201


@bp.get("/macros/<int:macro_id>")
@agent_required
def get_macro(macro_id: int):
    """Show one macro."""
    return jsonify(_one(service.get_macro(macro_id, g.agent)))


@bp.patch("/macros/<int:macro_id>")
@agent_required
def update_macro(macro_id: int):
    """Change a macro you manage."""
    macro = service.get_macro(macro_id, g.agent, manage=True)
    return jsonify(_one(service.update_macro(macro, request.get_json(silent=True), g.agent)))


@bp.delete("/macros/<int:macro_id>")
@agent_required
def delete_macro(macro_id: int):
    """Delete a macro you manage."""
    service.delete_macro(service.get_macro(macro_id, g.agent, manage=True), g.agent)
    return "", 204


@bp.post("/macros/<int:macro_id>/preview")
@agent_required
def preview_macro(macro_id: int):
    """The rendered reply and every change applying the macro to `conversation_id` would make; nothing is written."""
    macro = service.get_macro(macro_id, g.agent)
    body = request.get_json(silent=True)
    conversation_id = body.get("conversation_id") if isinstance(body, dict) else None
    if not is_id(conversation_id):
        raise ValidationError("conversation_id: the conversation to preview on", code="invalid_field")
    conversation = ensure_visible(db.session.get(Conversation, conversation_id), g.agent)
    return jsonify(service.preview_macro(macro, conversation, g.agent))


@bp.post("/conversations/<int:conversation_id>/macros/<int:macro_id>")
@agent_required
def apply_macro(conversation_id: int, macro_id: int):
    """Apply a macro to a conversation: every action or none."""
    macro = service.get_macro(macro_id, g.agent)
    conversation = ensure_visible(db.session.get(Conversation, conversation_id), g.agent)
    return jsonify(service.apply_macro(macro, conversation, g.agent))


@bp.get("/macros/export")
@role_required("admin")
def export_macros():
    """Every team and global macro, as JSON that /macros/import takes back."""
    return jsonify(macros=service.export_macros())


@bp.post("/macros/import")
@role_required("admin")
def import_macros():
    """Create or update team and global macros from exported JSON; all or nothing."""
    body = request.get_json(silent=True)
    return jsonify(service.import_macros(body.get("macros") if isinstance(body, dict) else None, g.agent))


_ACTION = {"type": "object", "required": ["type"], "properties": {
    "type": {"enum": list(PARSERS)},
    "text": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}},
    "priority": {"enum": ["urgent", "high", "normal", "low"]}, "queue": {"type": "string"},
    "assignee": {"oneOf": [{"type": "integer"}, {"const": "me"}, {"type": "null"}]},
    "status": {"enum": ["open", "pending", "resolved"]}, "minutes": {"type": "integer"},
    "until": {"type": "string", "format": "date-time"}}}
_MACRO_FIELDS = {
    "name": text(service.MAX_NAME_CHARS), "description": {"type": "string", "maxLength": service.MAX_DESCRIPTION_CHARS},
    "template": {"type": "string", "description": "sandboxed Jinja: author, agent, conversation, queue, channel"},
    "actions": {"type": "array", "items": _ACTION}, "scope": {"enum": list(SCOPES)},
    "queue": {"type": ["string", "null"], "description": "the team's queue slug (team scope; 404 if none)"}}
# A team macro names its team's queue.
_TEAM_QUEUE = {"if": {"required": ["scope"], "properties": {"scope": {"const": "team"}}},
               "then": {"required": ["queue"], "properties": {"queue": {"type": "string"}}}}
# A change that makes a macro a team macro names the queue too (when the change leaves it to the stored queue,
# the merged macro is checked: 400 if it has none).
SCHEMAS["MacroInput"] = closed(_MACRO_FIELDS, minProperties=1, **{
    "if": _TEAM_QUEUE["if"], "then": {"properties": {"queue": {"type": "string"}}}})
SCHEMAS["NewMacro"] = closed(_MACRO_FIELDS, required=("name",), **_TEAM_QUEUE)
SCHEMAS["MacroExport"] = closed({**_MACRO_FIELDS, "scope": {"enum": ["team", "global"]}},
                                required=("name", "scope"), **_TEAM_QUEUE)
SCHEMAS["Macro"] = {
    "type": "object", "required": ["id", "name", "description", "template", "actions", "scope", "queue", "owner",
                                   "usage", "can_manage"],
    "properties": {"name": {"type": "string"}, "description": {"type": "string"}, "template": {"type": "string"},
                   "actions": {"type": "array", "items": {"type": "object"}}, "scope": {"enum": list(SCOPES)},
                   "queue": {"type": ["string", "null"]}, "id": {"type": "integer"}, "owner": ref("Agent"),
                   "usage": {"type": "object", "properties": {"mine": {"type": "integer"},
                                                              "total": {"type": "integer"}}},
                   "can_manage": {"type": "boolean"}, "created_at": {"type": "string"},
                   "updated_at": {"type": "string"}}}
_MACRO_NOTE = ("Actions and the template are compiled on the way in: one that does not compile (a Jinja error, an "
               "action missing what it needs) is 400 invalid_macro, naming the action.")
SCHEMAS["MacroChange"] = {"type": "object", "properties": {
    "action": {"type": "string"}, "description": {"type": "string"}, "before": {"type": "object"},
    "after": {"type": "object"}}}
SCHEMAS["MacroResult"] = {
    "type": "object", "required": ["conversation_id", "reply", "sends_reply", "changes"],
    "properties": {"conversation_id": {"type": "integer"}, "reply": {"type": ["string", "null"]},
                   "sends_reply": {"type": "boolean"}, "reply_length": {"type": ["integer", "null"]},
                   "reply_limit": {"type": "integer"},
                   "changes": {"type": "array", "items": ref("MacroChange")}}}
_EXPORT = {"type": "object", "required": ["macros"],
           "properties": {"macros": {"type": "array", "items": {"type": "object"}}}}
_IMPORT = closed({"macros": {"type": "array", "items": ref("MacroExport"), "minItems": 1,
                             "maxItems": service.MAX_IMPORT}}, required=("macros",))
_MACRO_ID = [{"name": "macro_id", "in": "path", "required": True, "schema": ID}]
_MACRO_BODY = {"required": True, "content": {"application/json": {"schema": ref("MacroInput")}}}
_NEW_MACRO_BODY = {"required": True, "content": {"application/json": {"schema": ref("NewMacro")}}}
_MACRO = json_body(ref("Macro"), "The macro.")
_RESULT = json_body(ref("MacroResult"), "The reply and the changes.")
PATHS["/api/v1/macros"] = {
    "get": {"operationId": "list_macros", "summary": "Macros you may use, ranked by match with q and by use.",
            "parameters": [{"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 200}},
                           {"name": "manage", "in": "query", "schema": {"enum": ["1", "0"]},
                            "description": "list the macros you may manage instead"}],
            "responses": {"200": json_body({"type": "object", "properties": {
                "data": {"type": "array", "items": ref("Macro")}}}, "The macros."), "400": ERROR, "401": ERROR}},
    "post": {"operationId": "create_macro", "summary": "Create a macro (team: supervisors; global: admins).",
             "description": _MACRO_NOTE, "requestBody": _NEW_MACRO_BODY,
             "responses": {"201": _MACRO, "400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR}},
}
PATHS["/api/v1/macros/{macro_id}"] = {
    "get": {"operationId": "get_macro", "summary": "One macro.", "parameters": _MACRO_ID,
            "responses": {"200": _MACRO, "401": ERROR, "404": ERROR}},
    "patch": {"operationId": "update_macro", "summary": "Change a macro you manage.", "parameters": _MACRO_ID,
              "description": _MACRO_NOTE, "requestBody": _MACRO_BODY,
              "responses": {"200": _MACRO, "400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR}},
    "delete": {"operationId": "delete_macro", "summary": "Delete a macro you manage.", "parameters": _MACRO_ID,
               "responses": {"204": {"description": "Deleted."}, "401": ERROR, "403": ERROR, "404": ERROR}},
}
PATHS["/api/v1/macros/{macro_id}/preview"] = {"post": {
    "operationId": "preview_macro", "summary": "The rendered reply and every change, with nothing written.",
    "parameters": _MACRO_ID,
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["conversation_id"], "properties": {"conversation_id": ID}}}}},
    "responses": {"200": _RESULT, "400": ERROR, "401": ERROR, "404": ERROR}}}
PATHS["/api/v1/conversations/{conversation_id}/macros/{macro_id}"] = {"post": {
    "operationId": "apply_macro", "summary": "Apply a macro: every action or none (the error names the action).",
    "parameters": [{"name": "conversation_id", "in": "path", "required": True, "schema": ID},
                   *_MACRO_ID],
    "description": "A macro whose action cannot apply here (a queue since deleted, a reply too long) is 400.",
    "responses": {"200": _RESULT, "400": ERROR, "401": ERROR, "404": ERROR}}}
PATHS["/api/v1/macros/export"] = {"get": {
    "operationId": "export_macros", "summary": "Team and global macros as JSON (admins).",
    "responses": {"200": json_body(_EXPORT, "The macros."), "401": ERROR, "403": ERROR}}}
PATHS["/api/v1/macros/import"] = {"post": {
    "operationId": "import_macros", "summary": "Create or update macros from exported JSON (admins); all or nothing.",
    "description": _MACRO_NOTE, "requestBody": {"required": True, "content": {"application/json": {"schema": _IMPORT}}},
    "responses": {"200": json_body({"type": "object", "properties": {"created": {"type": "integer"},
                                                                     "updated": {"type": "integer"}}}, "Counts."),
                  "400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR}}}
