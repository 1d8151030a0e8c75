"""Bulk actions: dry run, start (an RQ job reporting `bulk.progress`), follow, list results, undo."""

from flask import g, jsonify, request

from workspace.channels.registry import DEFAULT_REPLY_LIMIT as MAX_REPLY_CHARS
from workspace.config import Config
from workspace.errors import ValidationError
from workspace.models import BULK_STATES, ITEM_RESULTS, MAX_ID, STATUSES
from workspace.services.responses import bulk as service
from workspace.services.responses.bulk.selection import KINDS
from workspace.web.api import bp
from workspace.web.api.conversations import ASSIGNEE, TAGS
from workspace.web.api.openapi import ERROR, ID, PAGE_LIMIT, PATHS, SCHEMAS, closed, json_body, ref, text
from workspace.web.auth import agent_required
from workspace.web.validation import page_size


@bp.post("/bulk/dry-run")
@agent_required
def dry_run_bulk():
    """What a bulk action would do (how many change, VIPs, locks, failures, a sample) to the first `checked`
    of the `total` chosen; nothing is written."""
    return jsonify(service.dry_run(request.get_json(silent=True), g.agent))


@bp.post("/bulk")
@agent_required
def create_bulk():
    """Start a bulk action; progress arrives as `bulk.progress` events and at GET /bulk/<id>."""
    return jsonify(service.serialize_bulk(service.create_bulk(request.get_json(silent=True), g.agent))), 202


@bp.get("/bulk")
@agent_required
def list_bulk():
    """Your latest bulk actions, newest first."""
    return jsonify(data=[service.serialize_bulk(bulk) for bulk in service.recent_bulks(g.agent)])


@bp.get("/bulk/<int:bulk_id>")
@agent_required
def get_bulk(bulk_id: int):
    """One bulk action's progress and counts."""
    return jsonify(service.serialize_bulk(service.get_bulk(bulk_id, g.agent)))


@bp.get("/bulk/<int:bulk_id>/items")
@agent_required
def list_bulk_items(bulk_id: int):
    """Per-conversation results (done, skipped and why, failed and why), in order; `after` pages on."""
    bulk = service.get_bulk(bulk_id, g.agent)
    result, after = request.args.get("result"), request.args.get("after", "-1")
    if result is not None and result not in ITEM_RESULTS:
        raise ValidationError(f"result: one of {', '.join(ITEM_RESULTS)}", code="invalid_field")
    if not after.lstrip("-").isdigit():
        raise ValidationError("after: a position from a previous page", code="invalid_field")
    limit = page_size()
    items = service.bulk_items(bulk, result=result, after=int(after), limit=limit)
    return jsonify(data=[service.serialize_item(item) for item in items],
                   next_after=items[-1].position if len(items) == limit else None)


@bp.post("/bulk/<int:bulk_id>/undo")
@agent_required
def undo_bulk(bulk_id: int):
    """Undo a finished bulk action's non-sending changes (within the undo window); replies stay sent."""
    bulk = service.request_undo(service.get_bulk(bulk_id, g.agent), g.agent)
    return jsonify(service.serialize_bulk(bulk)), 202


_KIND_NEEDS = {"macro": {"required": ["macro_id"], "x-error": "macro_id: the macro to apply"},
               "reply": {"required": ["text"], "x-error": "text: the reply to send"},
               "assign": {"required": ["assignee"], "x-error": "assignee: who to assign (an id, me or null)"},
               "move": {"required": ["queue"], "x-error": "queue: the queue to move them to"},
               "status": {"required": ["status"], "x-error": "status: open, pending or resolved"},
               "tags": {"anyOf": [{"required": [verb], "properties": {verb: {"minItems": 1}}}
                                  for verb in ("add", "remove")], "x-error": "add or remove: tags to add or remove"}}
SCHEMAS["BulkInput"] = closed({
    "kind": {"enum": list(KINDS)},
    "macro_id": ID, "text": {**text(MAX_REPLY_CHARS), "description": "reply template (kind reply)"},
    "assignee": ASSIGNEE, "add": TAGS, "remove": TAGS,
    "queue": {"type": "string"}, "status": {"enum": ["open", "pending", "resolved"]},
    "conversation_ids": {"type": "array", "items": ID, "minItems": 1, "maxItems": Config.BULK_MAX_CONVERSATIONS},
    "filter": closed({"queue": {"type": "string"}, "status": {"enum": list(STATUSES)}, "assignee": {
        "anyOf": [{"enum": ["me", "none", "any"]}, ID]}, "tag": {"type": "string"}, "channel": {"type": "string"}},
        required=("queue",), description="all matching, in one queue: status (open), assignee, tag, channel"),
    "incident_id": {**ID, "description": "an incident's open conversations (supervisors)"},
    "include_locked": {"type": "boolean", "description": "also change conversations another agent is replying to"},
}, required=("kind",),
    # Conversations are chosen one way: listed, all matching a filter, or an incident's.
    oneOf=[{"required": [way]} for way in ("conversation_ids", "filter", "incident_id")],
    **{"x-error": "choose conversations one way: conversation_ids, filter or incident_id"},
    allOf=[{"if": {"properties": {"kind": {"const": kind}}}, "then": needs} for kind, needs in _KIND_NEEDS.items()])
_BULK_NOTE = ("Refused for what only the data can tell: a filter or incident that selects nothing (400 "
              "nothing_selected) or too much (400 too_many); a macro or reply template that does not apply "
              "(400 invalid_macro). Ids and slugs that name nothing are 404.")
SCHEMAS["Bulk"] = {
    "type": "object",
    "required": ["id", "kind", "state", "total", "done", "skipped", "failed", "processed", "undoable"],
    "properties": {"id": {"type": "integer"}, "kind": {"type": "string"}, "macro_id": {"type": ["integer", "null"]},
                   "state": {"enum": list(BULK_STATES)},
                   **{k: {"type": "integer"} for k in ("total", "done", "skipped", "failed", "processed")},
                   "error": {"type": ["string", "null"]}, "actions": {"type": "array", "items": {"type": "string"}},
                   "selection": {"type": "object"}, "agent": ref("Agent"), "created_at": {"type": "string"},
                   "finished_at": {"type": ["string", "null"]}, "undone_at": {"type": ["string", "null"]},
                   "undoable": {"type": "boolean"}, "undo_until": {"type": ["string", "null"]}},
}
_BULK_ID = [{"name": "bulk_id", "in": "path", "required": True, "schema": ID}]
_BULK_BODY = {"required": True, "content": {"application/json": {"schema": ref("BulkInput")}}}
_BULK = json_body(ref("Bulk"), "The bulk action.")
PATHS["/api/v1/bulk/dry-run"] = {"post": {
    "operationId": "dry_run_bulk", "summary": "What a bulk action would do; nothing is written.",
    "description": _BULK_NOTE, "requestBody": _BULK_BODY,
    "responses": {"200": json_body({"type": "object", "properties": {
        **{k: {"type": "integer"} for k in ("total", "will_change", "unchanged", "vip", "skipped", "failing",
                                            "locked_count")},
        "checked": {"type": "integer", "description": "how many (the first, in work order) the figures count"},
        "locked": {"type": "array", "items": {"type": "object"}},
        "failures": {"type": "array", "items": {"type": "object"}},
        "sample": {"type": "array", "items": {"type": "object"}}}}, "The dry run."),
        "400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR}}}
PATHS["/api/v1/bulk"] = {
    "post": {"operationId": "create_bulk", "summary": "Start a bulk action (an RQ job; `bulk.progress` events).",
             "description": _BULK_NOTE, "requestBody": _BULK_BODY,
             "responses": {"202": _BULK, "400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR}},
    "get": {"operationId": "list_bulk", "summary": "Your latest bulk actions.",
            "responses": {"200": json_body({"type": "object", "properties": {
                "data": {"type": "array", "items": ref("Bulk")}}}, "Newest first."), "401": ERROR}},
}
PATHS["/api/v1/bulk/{bulk_id}"] = {"get": {
    "operationId": "get_bulk", "summary": "A bulk action's progress.", "parameters": _BULK_ID,
    "responses": {"200": _BULK, "401": ERROR, "404": ERROR}}}
PATHS["/api/v1/bulk/{bulk_id}/items"] = {"get": {
    "operationId": "list_bulk_items", "summary": "Per-conversation results, in order.",
    "parameters": [*_BULK_ID, {"name": "result", "in": "query", "schema": {"enum": list(ITEM_RESULTS)}},
                   {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": -1, "maximum": MAX_ID},
                    "description": "next_after of the previous page"},
                   PAGE_LIMIT],
    "responses": {"200": json_body({"type": "object", "properties": {
        "data": {"type": "array", "items": {"type": "object", "properties": {
            "conversation_id": {"type": "integer"}, "result": {"type": "string"},
            "reason": {"type": ["string", "null"]}, "message_id": {"type": ["integer", "null"]}}}},
        "next_after": {"type": ["integer", "null"]}}}, "A page of results."),
        "400": ERROR, "401": ERROR, "404": ERROR}}}
PATHS["/api/v1/bulk/{bulk_id}/undo"] = {"post": {
    "operationId": "undo_bulk", "summary": "Undo the non-sending changes, skipping conversations changed since.",
    "parameters": _BULK_ID, "responses": {"202": _BULK, "401": ERROR, "404": ERROR, "409": ERROR}}}
