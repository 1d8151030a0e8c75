"""Automations: list, create, change, delete, dry run, and the firings of one automation or one conversation."""

import sqlalchemy as sa
from flask import g, jsonify, request

from workspace.extensions import db
from workspace.models import FIRING_RESULTS, AutomationFiring, Conversation
from workspace.serializers import timestamp
from workspace.services.automations import engine, library
from workspace.services.automations.rules import FIELDS, HOURS_FIELDS, MAX_CONDITIONS, MAX_HOURS, OPS, OWN_ACTIONS
from workspace.services.conversations.actions import ensure_visible
from workspace.web.api import bp
from workspace.web.api.openapi import ERROR, ID, PATHS, SCHEMAS, closed, json_body, list_of, ref, text
from workspace.web.auth import agent_required, role_required

# Firings listed per automation or conversation, newest first.
FIRINGS_SHOWN = 100


def serialize_automation(automation, counts: tuple[int, object] = (0, None)) -> dict:
    """An automation as the API shows it, with how often it fired and when it last did."""
    return {"id": automation.id, **library.snapshot(automation), "key": automation.key,
            "fired": counts[0], "last_fired_at": timestamp(counts[1]),
            "created_at": timestamp(automation.created_at), "updated_at": timestamp(automation.updated_at)}


def serialize_firing(firing: AutomationFiring) -> dict:
    """One firing: which automation, on which conversation, what it did or why it was refused."""
    return {"id": firing.id, "automation_id": firing.automation_id, "automation": firing.automation.name,
            "conversation_id": firing.conversation_id, "result": firing.result, "changes": firing.changes,
            "error": firing.error, "fired_at": timestamp(firing.fired_at)}


def _one(automation) -> dict:
    return serialize_automation(automation, library.firing_counts([automation.id]).get(automation.id, (0, None)))


def _firings(*where) -> list[dict]:
    rows = db.session.scalars(sa.select(AutomationFiring).where(*where).order_by(AutomationFiring.id.desc())
                              .limit(FIRINGS_SHOWN)).all()
    return [serialize_firing(row) for row in rows]


@bp.get("/automations")
@role_required("admin")
def list_automations():
    """Every automation, in the order the scheduler runs them, with their firing counts."""
    automations = library.list_automations()
    counts = library.firing_counts([automation.id for automation in automations])
    return jsonify(data=[serialize_automation(a, counts.get(a.id, (0, None))) for a in automations])


@bp.post("/automations")
@role_required("admin")
def create_automation():
    """Create an automation: name, conditions, actions (disabled unless enabled is true)."""
    return jsonify(_one(library.create_automation(request.get_json(silent=True), g.agent))), 201


@bp.get("/automations/<int:automation_id>")
@role_required("admin")
def get_automation(automation_id: int):
    """Show one automation."""
    return jsonify(_one(library.get_automation(automation_id)))


@bp.patch("/automations/<int:automation_id>")
@role_required("admin")
def update_automation(automation_id: int):
    """Change an automation (enable it, reorder it, change its conditions or actions)."""
    automation = library.get_automation(automation_id)
    return jsonify(_one(library.update_automation(automation, request.get_json(silent=True), g.agent)))


@bp.delete("/automations/<int:automation_id>")
@role_required("admin")
def delete_automation(automation_id: int):
    """Delete an automation."""
    library.delete_automation(library.get_automation(automation_id), g.agent)
    return "", 204


@bp.post("/automations/dry-run")
@role_required("admin")
def dry_run_automation():
    """What these conditions would fire on now (a saved automation's id marks where it already fired)."""
    body = request.get_json(silent=True)
    automation_id = body.get("automation_id")
    if automation_id is not None:
        library.get_automation(automation_id)
    return jsonify(engine.dry_run(body["conditions"], body["actions"], automation_id))


@bp.get("/automations/<int:automation_id>/firings")
@role_required("admin")
def list_automation_firings(automation_id: int):
    """An automation's latest firings, newest first."""
    library.get_automation(automation_id)
    return jsonify(data=_firings(AutomationFiring.automation_id == automation_id))


@bp.get("/conversations/<int:conversation_id>/automations")
@agent_required
def list_conversation_automations(conversation_id: int):
    """The automations that fired on a conversation, newest first."""
    ensure_visible(db.session.get(Conversation, conversation_id), g.agent)
    return jsonify(data=_firings(AutomationFiring.conversation_id == conversation_id))


_CONDITION = closed({
    "field": {"enum": list(FIELDS)}, "op": {"enum": sorted({op for ops in OPS.values() for op in ops})},
    "value": {"oneOf": [
        {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_HOURS, "description": f"hours ({HOURS_FIELDS})"},
        {"type": "boolean", "description": "assigned"},
        {"type": "array", "minItems": 1, "maxItems": 50, "items": {"type": "string", "minLength": 1, "maxLength": 64},
         "description": "statuses, queue slugs, priorities, SLA states (ok, at_risk, breached) or tags"}]}},
    required=("field", "op", "value"))
_ACTION = {"type": "object", "required": ["type"], "properties": {
    "type": {"enum": ["add_tags", "remove_tags", "priority", "move", "status", "snooze", "tag_customer", "note",
                      "escalate", *OWN_ACTIONS]},
    "text": text(10000), "macro_id": ID, "target": {"enum": ["assignee", "queue"]},
    "assignee": {"description": 'an agent id, "lead" (the queue\'s lead) or null'}},
    "description": "a macro action (docs/macros.md), or reply {text}, macro {macro_id}, assign {assignee: id, "
                   "\"lead\" or null}, notify {target}"}
_FIELDS = {"name": text(library.MAX_NAME_CHARS), "description": text(library.MAX_DESCRIPTION_CHARS, blank=True),
           "enabled": {"type": "boolean"}, "position": {"type": "integer", "minimum": 0,
                                                        "maximum": library.MAX_POSITION},
           "conditions": {"type": "array", "maxItems": MAX_CONDITIONS, "items": _CONDITION},
           "actions": {"type": "array", "minItems": 1, "maxItems": 20, "items": _ACTION}}
SCHEMAS["Automation"] = {
    "type": "object", "required": ["id", "name", "description", "enabled", "position", "conditions", "actions",
                                   "key", "fired", "last_fired_at"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "description": {"type": "string"},
                   "enabled": {"type": "boolean"}, "position": {"type": "integer"},
                   "conditions": {"type": "array", "items": {"type": "object"}},
                   "actions": {"type": "array", "items": {"type": "object"}},
                   "key": {"type": ["string", "null"], "description": "set on the automations Switchboard ships"},
                   "fired": {"type": "integer"}, "last_fired_at": {"type": ["string", "null"]},
                   "created_at": {"type": "string"}, "updated_at": {"type": "string"}}}
SCHEMAS["AutomationFiring"] = {
    "type": "object", "required": ["id", "automation_id", "automation", "conversation_id", "result", "changes",
                                   "error", "fired_at"],
    "properties": {"id": {"type": "integer"}, "automation_id": {"type": "integer"}, "automation": {"type": "string"},
                   "conversation_id": {"type": "integer"}, "result": {"enum": list(FIRING_RESULTS)},
                   "changes": {"type": "array", "items": {"type": "object"}},
                   "error": {"type": ["string", "null"]}, "fired_at": {"type": "string"}}}
SCHEMAS["Queue"]["properties"]["lead_id"] = {"type": ["integer", "null"],
                                             "description": "the queue's lead, whom automations can assign to"}
_ADMIN = {"400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR}
_ID = [{"name": "automation_id", "in": "path", "required": True, "schema": ID}]
_NOTE = ("Conditions and actions are checked as a whole (a template that does not compile, a queue that does not "
         "exist, escalate not last): 400 invalid_automation, saying which.")


def _body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


PATHS["/api/v1/automations"] = {
    "get": {"operationId": "list_automations", "summary": "Automations, in running order (admins).",
            "responses": {"200": list_of("Automation"), "401": ERROR, "403": ERROR}},
    "post": {"operationId": "create_automation", "summary": "Create an automation (admins).", "description": _NOTE,
             "requestBody": _body(closed(_FIELDS, required=("name", "conditions", "actions"))),
             "responses": {"201": json_body(ref("Automation"), "Created."), **_ADMIN}}}
PATHS["/api/v1/automations/{automation_id}"] = {
    "get": {"operationId": "get_automation", "summary": "One automation (admins).", "parameters": _ID,
            "responses": {"200": json_body(ref("Automation"), "The automation."), "401": ERROR, "403": ERROR,
                          "404": ERROR}},
    "patch": {"operationId": "update_automation", "summary": "Change an automation (admins).", "parameters": _ID,
              "description": _NOTE, "requestBody": _body(closed(_FIELDS, minProperties=1)),
              "responses": {"200": json_body(ref("Automation"), "Changed."), **_ADMIN}},
    "delete": {"operationId": "delete_automation", "summary": "Delete an automation (admins).", "parameters": _ID,
               "responses": {"204": {"description": "Deleted."}, **_ADMIN}}}
PATHS["/api/v1/automations/dry-run"] = {"post": {
    "operationId": "dry_run_automation",
    "summary": "What an automation would fire on now, with nothing written (admins).",
    "description": f"Reads at most {engine.DRY_RUN_SCAN} candidates and lists {engine.DRY_RUN_LIMIT}. " + _NOTE,
    "requestBody": _body(closed({"conditions": _FIELDS["conditions"], "actions": _FIELDS["actions"],
                                 "automation_id": ID}, required=("conditions", "actions"))),
    "responses": {"200": json_body({"type": "object", "required": ["matches", "count", "scanned", "complete",
                                                                   "actions"], "properties": {
        "matches": {"type": "array", "items": {"type": "object", "required": ["id", "already_fired"], "properties": {
            "id": {"type": "integer"}, "subject": {"type": "string"}, "status": {"type": "string"},
            "queue": {"type": ["string", "null"]}, "priority": {"type": "string"},
            "already_fired": {"type": "boolean"}}}},
        "count": {"type": "integer"}, "scanned": {"type": "integer"}, "complete": {"type": "boolean"},
        "actions": {"type": "array", "items": {"type": "string"}}}}, "What would fire."), **_ADMIN}}}
PATHS["/api/v1/automations/{automation_id}/firings"] = {"get": {
    "operationId": "list_automation_firings", "summary": f"An automation's latest {FIRINGS_SHOWN} firings (admins).",
    "parameters": _ID, "responses": {"200": list_of("AutomationFiring"), "401": ERROR, "403": ERROR, "404": ERROR}}}
PATHS["/api/v1/conversations/{conversation_id}/automations"] = {"get": {
    "operationId": "list_conversation_automations", "summary": "The automations that fired on a conversation.",
    "parameters": [{"name": "conversation_id", "in": "path", "required": True, "schema": ID}],
    "responses": {"200": list_of("AutomationFiring"), "401": ERROR, "404": ERROR}}}
