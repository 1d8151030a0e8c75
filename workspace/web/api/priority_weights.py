"""Priority weights over the API: read them, preview what a change would do, save them (admins)."""

from flask import g, jsonify

from workspace.services.triage import weights
from workspace.services.triage.replay import preview_weights
from workspace.web.api import bp
from workspace.web.api.openapi import ERROR, NULLABLE_TIME, PATHS, SCHEMAS, json_body, ref
from workspace.web.auth import role_required
from workspace.web.validation import json_object


@bp.get("/routing/priority-weights")
@role_required("supervisor")
def get_priority_weights():
    """Show the weights in force, the defaults, and each weight's range and meaning."""
    return jsonify(weights.weights_document())


@bp.put("/routing/priority-weights")
@role_required("admin")
def update_priority_weights():
    """Replace the weights (one left out goes back to its default); routing uses them from its next batch."""
    return jsonify(weights.save_weights(json_object(), g.agent))


@bp.post("/routing/priority-weights/preview")
@role_required("supervisor")
def preview_priority_weights():
    """What-if: which unresolved conversations would change priority level under these weights (no changes)."""
    return jsonify(preview_weights(json_object()))


SCHEMAS["PriorityWeightValues"] = {
    "type": "object", "additionalProperties": False,
    "description": "Weights by name; one left out is its default. Each has its own range (see fields); "
                   "urgent_at >= high_at >= normal_at.",
    "properties": {name: {"type": "integer" if whole else "number", "minimum": low, "maximum": high,
                          "description": meaning}
                   for name, (low, high, whole, meaning) in weights.FIELDS.items()},
}
SCHEMAS["PriorityWeights"] = {
    "type": "object", "required": ["values", "defaults", "fields", "updated_at"],
    "properties": {"values": ref("PriorityWeightValues"), "defaults": ref("PriorityWeightValues"),
                   "fields": {"type": "object", "additionalProperties": {"type": "object"}},
                   "updated_at": NULLABLE_TIME},
}
SCHEMAS["PriorityPreview"] = {
    "type": "object", "required": ["conversations", "would_change", "raised", "lowered", "changes", "limited",
                                   "limit"],
    "properties": {
        "conversations": {"type": "integer", "description": "Unresolved conversations scored."},
        "limited": {"type": "boolean", "description": "More than `limit` were unresolved: the newest `limit` "
                    "were scored."}, "limit": {"type": "integer"},
        "would_change": {"type": "integer"}, "raised": {"type": "integer"}, "lowered": {"type": "integer"},
        "changes": {"type": "array", "items": {
            "type": "object", "required": ["from", "to", "count", "examples"],
            "properties": {"from": {"type": "string"}, "to": {"type": "string"}, "count": {"type": "integer"},
                           "examples": {"type": "array", "items": {"type": "object"}}}}},
    },
}
_BODY = {"required": True, "content": {"application/json": {"schema": ref("PriorityWeightValues")}}}
_REFUSED = ("A weight unknown, not a number, out of its range, or thresholds out of order (invalid_field, naming "
            "it); for a preview, invalid_rule if a stored rule does not compile.")
_ERRORS = {"400": json_body(ref("Error"), _REFUSED), "401": ERROR, "403": ERROR}
PATHS["/api/v1/routing/priority-weights"] = {
    "get": {"operationId": "get_priority_weights", "summary": "The priority weights in force (supervisors).",
            "responses": {"200": json_body(ref("PriorityWeights"), "The weights."), "401": ERROR, "403": ERROR}},
    "put": {"operationId": "update_priority_weights",
            "summary": "Replace the priority weights (admins); one left out goes back to its default.",
            "requestBody": _BODY, "responses": {"200": json_body(ref("PriorityWeights"), "Saved."), **_ERRORS}},
}
PATHS["/api/v1/routing/priority-weights/preview"] = {"post": {
    "operationId": "preview_priority_weights",
    "summary": "What-if: unresolved conversations whose priority level these weights would change (supervisors; "
               "changes nothing).",
    "requestBody": _BODY, "responses": {"200": json_body(ref("PriorityPreview"), "The report."), **_ERRORS},
}}
