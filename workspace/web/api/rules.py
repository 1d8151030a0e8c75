"""Routing rules: admins create, change, reorder, enable/disable and delete them."""

from flask import g, jsonify, request

from workspace.models import MAX_ID
from workspace.services.triage import rules as service
from workspace.web.api import bp
from workspace.web.api.openapi import ERROR, ID, PATHS, SCHEMAS, closed, json_body, ref, text
from workspace.web.auth import role_required


def serialize_rule(rule) -> dict:
    """A rule as the API shows it."""
    return {**rule.spec(), "position": rule.position,
            "created_at": rule.created_at.isoformat(), "updated_at": rule.updated_at.isoformat()}


@bp.get("/rules")
@role_required("supervisor")
def list_rules():
    """List the rules in evaluation order."""
    return jsonify(data=[serialize_rule(rule) for rule in service.rules_in_order()])


@bp.post("/rules")
@role_required("admin")
def create_rule():
    """Create a rule; one that does not compile is refused with the reason."""
    return jsonify(serialize_rule(service.create_rule(request.get_json(silent=True), g.agent))), 201


@bp.get("/rules/<int:rule_id>")
@role_required("supervisor")
def get_rule(rule_id: int):
    """Show one rule."""
    return jsonify(serialize_rule(service.get_rule(rule_id)))


@bp.patch("/rules/<int:rule_id>")
@role_required("admin")
def update_rule(rule_id: int):
    """Change a rule's fields (name, conditions, actions, enabled, position)."""
    rule = service.update_rule(service.get_rule(rule_id), request.get_json(silent=True), g.agent)
    return jsonify(serialize_rule(rule))


@bp.delete("/rules/<int:rule_id>")
@role_required("admin")
def delete_rule(rule_id: int):
    """Delete a rule."""
    service.delete_rule(service.get_rule(rule_id), g.agent)
    return "", 204


@bp.post("/rules/reorder")
@role_required("admin")
def reorder_rules():
    """Set the evaluation order: `{"order": [rule ids]}` naming every rule once."""
    body = request.get_json(silent=True) or {}
    rules = service.reorder_rules(body.get("order") if isinstance(body, dict) else None, g.agent)
    return jsonify(data=[serialize_rule(rule) for rule in rules])


SCHEMAS["Rule"] = {
    "type": "object", "required": ["id", "name", "enabled", "conditions", "actions", "position"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "enabled": {"type": "boolean"},
                   "conditions": {"type": "object", "description": "all/any/not trees of conditions"},
                   "actions": {"type": "object", "description": "queue, priority, score, tags, assign, spam, stop"},
                   "position": {"type": "integer"}, "created_at": {"type": "string"},
                   "updated_at": {"type": "string"}},
}
_RULE_FIELDS = {
    "name": text(200), "enabled": {"type": "boolean"},
    "conditions": {"type": "object", "minProperties": 1, "description": "all/any/not trees of conditions"},
    "actions": {"type": "object", "description": "queue, priority, score, tags, assign, spam, stop"},
    "position": {"type": "integer", "minimum": 0, "maximum": MAX_ID,
                 "description": "0 to the number of other rules (400 past it)"}}
SCHEMAS["RuleInput"] = closed(_RULE_FIELDS)
SCHEMAS["NewRule"] = closed(_RULE_FIELDS, required=("name", "conditions", "actions"))
_RULES_NOTE = ("Conditions and actions are a small language, compiled on the way in: one that does not compile "
               "(an unknown field or queue, an RE2 pattern that does not parse, nesting past the limit) is "
               "400 invalid_rule, saying where.")
_RULE_ID = [{"name": "rule_id", "in": "path", "required": True, "schema": ID}]
_ADMIN_ERRORS = {"400": ERROR, "401": ERROR, "403": ERROR}
_RULE_LIST = json_body({"type": "object", "required": ["data"],
                        "properties": {"data": {"type": "array", "items": ref("Rule")}}}, "The rules, in order.")
PATHS["/api/v1/rules"] = {
    "get": {"operationId": "list_rules", "summary": "The rules in evaluation order (supervisors).",
            "responses": {"200": _RULE_LIST, "401": ERROR, "403": ERROR}},
    "post": {"operationId": "create_rule", "summary": "Create a rule (admins); refused with the reason if invalid.",
             "description": _RULES_NOTE,
             "requestBody": {"required": True, "content": {"application/json": {"schema": ref("NewRule")}}},
             "responses": {"201": json_body(ref("Rule"), "Created."), **_ADMIN_ERRORS}},
}
PATHS["/api/v1/rules/{rule_id}"] = {
    "get": {"operationId": "get_rule", "summary": "One rule.", "parameters": _RULE_ID,
            "responses": {"200": json_body(ref("Rule"), "The rule."), "401": ERROR, "403": ERROR, "404": ERROR}},
    "patch": {"operationId": "update_rule", "summary": "Change a rule (admins).", "parameters": _RULE_ID,
              "description": _RULES_NOTE,
              "requestBody": {"required": True, "content": {"application/json": {"schema": ref("RuleInput")}}},
              "responses": {"200": json_body(ref("Rule"), "Changed."), **_ADMIN_ERRORS, "404": ERROR}},
    "delete": {"operationId": "delete_rule", "summary": "Delete a rule (admins).", "parameters": _RULE_ID,
               "responses": {"204": {"description": "Deleted."}, "401": ERROR, "403": ERROR, "404": ERROR}},
}
PATHS["/api/v1/rules/reorder"] = {"post": {
    "operationId": "reorder_rules", "summary": "Set the evaluation order (admins).",
    "description": "An order that does not name every rule exactly once is 409 (the rules changed meanwhile?).",
    "requestBody": {"required": True, "content": {"application/json": {"schema": closed(
        {"order": {"type": "array", "items": ID, "maxItems": 10_000}}, required=("order",))}}},
    "responses": {"200": _RULE_LIST, **_ADMIN_ERRORS, "409": ERROR},
}}
