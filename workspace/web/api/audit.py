"""The audit log over the API (admins): filtered by who, what and when, paged, or exported as CSV."""

import csv
import io
import json

from flask import Response, jsonify, request, stream_with_context

from workspace.errors import ValidationError
from workspace.services import audit
from workspace.web.api import bp
from workspace.web.api.dashboard import csv_cell
from workspace.web.api.openapi import ERROR, PAGE_LIMIT, PATHS, SCHEMAS, ref, text, whole_number_query
from workspace.web.auth import role_required
from workspace.web.validation import page_size

CSV_COLUMNS = ("id", "created_at", "agent_id", "agent", "action", "target_type", "target_id", "before", "after")


def _wants_csv() -> bool:
    """`format=csv`, or an Accept header that prefers text/csv to JSON."""
    wanted = request.args.get("format") or None
    if wanted not in (None, "json", "csv"):
        raise ValidationError("format: json or csv", code="invalid_field")
    if wanted is not None:
        return wanted == "csv"
    return request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv"


def _csv_line(values) -> str:
    out = io.StringIO()
    csv.writer(out).writerow([csv_cell(value) for value in values])
    return out.getvalue()


def _csv_row(entry) -> list:
    data = audit.serialize_entry(entry)
    return [data["id"], data["created_at"], (data["agent"] or {}).get("id"), (data["agent"] or {}).get("name"),
            data["action"], data["target_type"], data["target_id"],
            None if entry.before is None else json.dumps(entry.before, sort_keys=True, ensure_ascii=False),
            None if entry.after is None else json.dumps(entry.after, sort_keys=True, ensure_ascii=False)]


@bp.get("/audit")
@role_required("admin")
def list_audit():
    """Audit entries newest first, filtered by agent, action, target and time; JSON pages or a streamed CSV."""
    found = audit.parse_filter(request.args)
    if _wants_csv():
        def lines():
            yield _csv_line(CSV_COLUMNS)
            for entry in audit.each_entry(found):
                yield _csv_line(_csv_row(entry))
        return Response(stream_with_context(lines()), mimetype="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="switchboard-audit.csv"'})
    entries, next_cursor = audit.list_entries(found, limit=page_size(), cursor=request.args.get("cursor") or None)
    return jsonify(data=[audit.serialize_entry(entry) for entry in entries], next_cursor=next_cursor)


SCHEMAS["AuditEntry"] = {
    "type": "object", "required": ["id", "agent", "action", "target_type", "target_id", "before", "after",
                                   "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "agent": {"type": ["object", "null"], "description": "who acted; null for the system",
                  "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
        "action": {"type": "string", "description": "what they did, e.g. rule.update"},
        "target_type": {"type": "string"}, "target_id": {"type": ["integer", "null"]},
        "before": {"type": ["object", "null"]}, "after": {"type": ["object", "null"]},
        "created_at": {"type": "string", "format": "date-time"}}}


def _query(name: str, description: str, **schema) -> dict:
    return {"name": name, "in": "query", "allowEmptyValue": True, "description": description,
            "schema": {"type": "string", **schema}}


PATHS["/api/v1/audit"] = {"get": {
    "operationId": "list_audit", "summary": "The audit log, newest first, filtered; JSON pages or CSV (admins).",
    "description": "CSV with `format=csv` or `Accept: text/csv`: every matching entry (limit and cursor do not "
                   "apply), streamed; a cell that a spreadsheet could read as a formula starts with a quote.",
    "parameters": [
        _query("agent", "an agent's id, or `system` for what Switchboard did by itself (400 for an unknown id)",
               pattern="^([1-9][0-9]{0,9}|system)$"),
        _query("action", "an action (rule.update), or a prefix ending in a dot (rule.)",
               **text(audit.MAX_ACTION_CHARS, blank=True)),
        _query("target_type", "the kind of thing changed (rule, conversation, …)",
               **text(audit.MAX_TARGET_TYPE_CHARS, blank=True)),
        whole_number_query("target_id", low=1, description="its id"),
        _query("from", "entries at or after: an ISO 8601 date or time (UTC unless it says)", maxLength=40),
        _query("to", "entries at or before (a bare date: to its end)", maxLength=40),
        _query("cursor", "`next_cursor` of the previous page", pattern="^[1-9][0-9]{0,9}$"),
        {"name": "format", "in": "query", "allowEmptyValue": True, "schema": {"enum": ["json", "csv"]}},
        PAGE_LIMIT],
    "responses": {
        "200": {"description": "A page of entries, or every matching one as CSV.", "content": {
            "application/json": {"schema": {"type": "object", "required": ["data", "next_cursor"], "properties": {
                "data": {"type": "array", "items": ref("AuditEntry")},
                "next_cursor": {"type": ["string", "null"]}}}},
            "text/csv": {"schema": {"type": "string"}}}},
        "400": ERROR, "401": ERROR, "403": ERROR}}}
