"""Incidents (known issues) over the API: list, open, edit, resolve (supervisors)."""

from flask import g, jsonify, request

from workspace.models import MATCH_KINDS
from workspace.serializers import serialize_incident
from workspace.services.responses import bulk
from workspace.services.supervision import incidents
from workspace.web.api import bp
from workspace.web.api.openapi import ERROR, ID, PATHS, SCHEMAS, closed, json_body, ref, text
from workspace.web.auth import role_required


def _view(incident) -> dict:
    return serialize_incident(incident, incidents.conversation_counts([incident.id])[incident.id])


@bp.get("/incidents")
@role_required("supervisor")
def list_incidents():
    """Incidents newest first (`status=open` or `resolved` to filter), with their conversation counts."""
    found = incidents.list_incidents(request.args.get("status") or None)
    counts = incidents.conversation_counts([incident.id for incident in found])
    return jsonify(data=[serialize_incident(incident, counts[incident.id]) for incident in found])


@bp.post("/incidents")
@role_required("supervisor")
def create_incident():
    """Open an incident: a title, optionally a match for new posts and conversations to add."""
    return jsonify(_view(incidents.create_incident(request.get_json(silent=True), g.agent))), 201


@bp.get("/incidents/<int:incident_id>")
@role_required("supervisor")
def get_incident(incident_id: int):
    """One incident with its conversation counts."""
    return jsonify(_view(incidents.find(incident_id)))


@bp.patch("/incidents/<int:incident_id>")
@role_required("supervisor")
def update_incident(incident_id: int):
    """Rename, change the match, add or remove conversations, or re-open."""
    incident = incidents.find(incident_id)
    return jsonify(_view(incidents.update_incident(incident, request.get_json(silent=True), g.agent)))


@bp.post("/incidents/<int:incident_id>/resolve")
@role_required("supervisor")
def resolve_incident(incident_id: int):
    """End the incident; `{"resolve_conversations": true}` also starts a bulk action resolving its open ones."""
    body = request.get_json(silent=True) or {}
    outcome = bulk.resolve_incident(incidents.find(incident_id), g.agent,
                                    resolve_conversations=body.get("resolve_conversations") is True)
    started = outcome["bulk"]
    return jsonify({**_view(outcome["incident"]), "bulk": None if started is None else bulk.serialize_bulk(started)})


SCHEMAS["Incident"] = {
    "type": "object", "required": ["id", "title", "status", "match", "spike", "created_at", "resolved_at"],
    "properties": {
        "id": {"type": "integer"}, "title": {"type": "string"}, "status": {"enum": ["open", "resolved"]},
        "match": {"type": ["object", "null"], "properties": {"kind": {"enum": ["queue", "tag", "phrase"]},
                                                            "value": {"type": "string"}}},
        "spike": {"type": ["object", "null"], "description": "the detector's observed, expected and z"},
        "created_by_id": {"type": ["integer", "null"]}, "created_at": {"type": "string"},
        "updated_at": {"type": "string"}, "resolved_at": {"type": ["string", "null"]},
        "counts": {"type": "object", "properties": {"conversations": {"type": "integer"},
                                                    "active": {"type": "integer"}}},
        "answer_macro": {"type": ["object", "null"], "properties": {"id": {"type": "integer"},
                                                                    "name": {"type": "string"}}},
        "bulk": {"oneOf": [ref("Bulk"), {"type": "null"}],
                 "description": "after resolve with resolve_conversations: the bulk action resolving them"}}}
_IDS = {"type": "array", "items": ID, "maxItems": incidents.MAX_IDS_PER_REQUEST,
        "description": "conversation ids (404 for one that names none)"}
_FIELDS = {
    "title": text(incidents.MAX_TITLE_CHARS),
    "match": {**closed({"kind": {"enum": list(MATCH_KINDS)}, "value": text(incidents.MAX_MATCH_CHARS)},
                       required=("kind", "value")), "type": ["object", "null"],
              "description": "what new posts it takes in, or null; a queue match names a queue (404 if none)"},
    "status": {"const": "open", "description": "re-open (resolve with POST .../resolve)"},
    "add_conversations": _IDS, "remove_conversations": _IDS,
    "answer_macro": {"oneOf": [ID, {"type": "null"}],
                     "description": "the macro that answers it, offered beside its conversations (404 if none)"}}


def _body(required: tuple = ()) -> dict:
    return {"required": True, "content": {"application/json": {"schema": closed(_FIELDS, required=required)}}}


_ID = [{"name": "incident_id", "in": "path", "required": True, "schema": ID}]
_ONE = json_body(ref("Incident"), "The incident.")
_FAIL = {"400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR}
PATHS["/api/v1/incidents"] = {
    "get": {"operationId": "list_incidents", "summary": "Incidents, newest first (supervisors).",
            "parameters": [{"name": "status", "in": "query", "schema": {"enum": ["open", "resolved"]}}],
            "responses": {"200": json_body({"type": "object", "required": ["data"], "properties": {
                "data": {"type": "array", "items": ref("Incident")}}}, "The list."), **_FAIL}},
    "post": {"operationId": "create_incident", "summary": "Open an incident (supervisors).",
             "requestBody": _body(("title",)),
             "responses": {"201": _ONE, **_FAIL}}}
PATHS["/api/v1/incidents/{incident_id}"] = {
    "get": {"operationId": "get_incident", "summary": "One incident (supervisors).", "parameters": _ID,
            "responses": {"200": _ONE, **_FAIL}},
    "patch": {"operationId": "update_incident", "summary": "Change an incident (supervisors).", "parameters": _ID,
              "requestBody": _body(), "responses": {"200": _ONE, **_FAIL}}}
PATHS["/api/v1/incidents/{incident_id}/resolve"] = {"post": {
    "operationId": "resolve_incident", "summary": "End an incident, optionally resolving its open conversations.",
    "parameters": _ID, "requestBody": {"content": {"application/json": {"schema": closed({
        "resolve_conversations": {"type": "boolean"}})}}},
    "responses": {"200": _ONE, **_FAIL}}}
