"""A person's data: export it, erase it, and the retention policy for closed conversations (a job with progress)."""

from flask import g, jsonify

from workspace.errors import NotFound
from workspace.jobs.enqueue import enqueue_retention, retention_job
from workspace.services import customers
from workspace.services.people import privacy
from workspace.web.api import bp
from workspace.web.api.openapi import ERROR, ID, PATHS, SCHEMAS, closed, json_body, ref
from workspace.web.auth import role_required
from workspace.web.validation import json_object


@bp.get("/authors/<int:author_id>/export")
@role_required("supervisor")
def export_person(author_id: int):
    """Everything held about the customer's person, as JSON (a subject access request)."""
    return jsonify(privacy.export_person(customers.visible_author(author_id, g.agent)))


@bp.post("/authors/<int:author_id>/erase")
@role_required("admin")
def erase_person(author_id: int):
    """Erase the customer's person everywhere, search index included; the audit keeps that it happened."""
    return jsonify(privacy.erase_person(customers.visible_author(author_id, g.agent), g.agent))


@bp.post("/retention")
@role_required("admin")
def apply_retention():
    """Start the retention job: redact (or delete the messages of) conversations closed more than `days` ago."""
    body = json_object()
    days, mode = privacy.check_retention(body["days"], body.get("mode", "redact"))
    return jsonify(_job_view(enqueue_retention(days, mode))), 202


@bp.get("/retention/<job_id>")
@role_required("admin")
def get_retention(job_id: str):
    """A retention job's status, progress and result."""
    job = retention_job(job_id)
    if job is None:
        raise NotFound(f"no retention job {job_id}")
    return jsonify(_job_view(job))


def _job_view(job) -> dict:
    status = job.get_status()
    result = job.return_value() if status == "finished" else None
    return {"id": job.id, "status": getattr(status, "value", status), "progress": (job.meta or {}).get("progress"),
            "result": result}


SCHEMAS["RetentionJob"] = {
    "type": "object", "required": ["id", "status", "progress", "result"],
    "properties": {"id": {"type": "string"}, "status": {"type": "string"},
                   "progress": {"type": ["object", "null"], "properties": {
                       "done": {"type": "integer"}, "total": {"type": "integer"}}},
                   "result": {"type": ["object", "null"]}},
}
_AUTHOR = [{"name": "author_id", "in": "path", "required": True, "schema": ID}]
_COUNTS = {"type": "object", "properties": {k: {"type": "integer"} for k in (
    "authors", "conversations", "messages", "notes", "links")}}
PATHS["/api/v1/authors/{author_id}/export"] = {"get": {
    "operationId": "export_person", "summary": "Everything held about a customer's person, as JSON.",
    "parameters": _AUTHOR,
    "responses": {"200": json_body({"type": "object", "required": ["person", "authors", "notes", "links",
                                                                   "conversations"]}, "The export."),
                  "401": ERROR, "403": ERROR, "404": ERROR}}}
PATHS["/api/v1/authors/{author_id}/erase"] = {"post": {
    "operationId": "erase_person", "summary": "Erase a customer's person everywhere (cannot be undone).",
    "parameters": _AUTHOR,
    "responses": {"200": json_body(_COUNTS, "What was erased."), "401": ERROR, "403": ERROR, "404": ERROR}}}
PATHS["/api/v1/retention"] = {"post": {
    "operationId": "apply_retention", "summary": "Start the retention job for conversations closed over N days ago.",
    "requestBody": {"required": True, "content": {"application/json": {"schema": closed(
        {"days": {"type": "integer", "minimum": 1, "maximum": 36500},
         "mode": {"enum": list(privacy.RETENTION_MODES)}}, required=("days",))}}},
    "responses": {"202": json_body(ref("RetentionJob"), "The job (or the same policy's job already running)."),
                  "400": ERROR, "401": ERROR, "403": ERROR}}}
PATHS["/api/v1/retention/{job_id}"] = {"get": {
    "operationId": "get_retention", "summary": "A retention job's progress and result.",
    "parameters": [{"name": "job_id", "in": "path", "required": True,
                    "schema": {"type": "string", "maxLength": 100}}],
    "responses": {"200": json_body(ref("RetentionJob"), "The job."), "401": ERROR, "403": ERROR, "404": ERROR}}}
