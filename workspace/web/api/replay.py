"""What-if replay over the API."""

from flask import jsonify

from workspace.services.triage.replay import parse_period, replay
from workspace.services.triage.rules import rules_in_order
from workspace.web.api import bp
from workspace.web.api.openapi import ERROR, PATHS, SCHEMAS, closed, json_body, ref
from workspace.web.auth import role_required
from workspace.web.validation import json_object


@bp.post("/routing/replay")
@role_required("supervisor")
def replay_routing():
    """Route a period's stored posts through draft rules and the active model; report the moves (no changes)."""
    body = json_object(optional=True)
    specs = body["rules"] if "rules" in body else [rule.spec() for rule in rules_in_order()]
    return jsonify(replay(parse_period(body.get("since", "7d")), specs))


SCHEMAS["ReplayReport"] = {
    "type": "object", "required": ["since", "conversations", "would_move", "vip_would_move",
                                   "priority_would_change", "moves", "priority_changes", "limited", "limit"],
    "properties": {
        "since": {"type": "string"}, "conversations": {"type": "integer"}, "would_move": {"type": "integer"},
        "vip_would_move": {"type": "integer"}, "model_version": {"type": ["string", "null"]},
        "limited": {"type": "boolean", "description": "The period held more than `limit` conversations: the "
                    "newest `limit` were replayed."}, "limit": {"type": "integer"},
        "priority_would_change": {"type": "integer", "description": "Conversations whose priority level the "
                                  "draft rules would change against the rules in force, both scored now."},
        "priority_changes": {"type": "array", "items": {
            "type": "object", "required": ["from", "to", "count", "examples"],
            "properties": {"from": {"type": "string"}, "to": {"type": "string"}, "count": {"type": "integer"},
                           "examples": {"type": "array", "items": {"type": "object"}}}}},
        "moves": {"type": "array", "items": {
            "type": "object", "required": ["from", "to", "count", "vip", "examples"],
            "properties": {"from": {"type": "string"}, "to": {"type": "string"}, "count": {"type": "integer"},
                           "vip": {"type": "integer"}, "examples": {"type": "array", "items": {"type": "object"}}}}},
    },
}
PATHS["/api/v1/routing/replay"] = {"post": {
    "operationId": "replay_routing",
    "summary": "What-if: where a period's conversations would go under draft rules (supervisors; changes nothing).",
    "description": "A draft rule that does not compile is 400 invalid_rule, saying which and where.",
    "requestBody": {"content": {"application/json": {"schema": closed({
        "since": {"type": "string", "default": "7d", "example": "7d", "pattern": "^\\s*[1-9][0-9]{0,5}[mhdw]\\s*$",
                  "description": "minutes, hours, days or weeks back"},
        "rules": {"type": "array", "items": ref("NewRule"), "maxItems": 1000,
                  "description": "draft rules; omitted: the rules in force"}})}}},
    "responses": {"200": json_body(ref("ReplayReport"), "The report."), "400": ERROR, "401": ERROR, "403": ERROR},
}}
