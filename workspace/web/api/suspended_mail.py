"""Suspended mail (admins): mail held back (a flooding sender, mail that could not be read), released into the
queues or dropped."""

from flask import g, jsonify

from workspace.jobs import dispatch
from workspace.serializers import timestamp
from workspace.services.intake import suspended
from workspace.web.api import bp
from workspace.web.api.openapi import ERROR, ID, PATHS, SCHEMAS, ref
from workspace.web.auth import role_required


def _serialize(held) -> dict:
    return {"id": held.id, "channel_id": held.channel_id, "message_id": held.message_key, "sender": held.sender,
            "subject": held.subject, "reason": held.reason, "size": len(held.raw),
            "created_at": timestamp(held.created_at)}


@bp.get("/suspended-mail")
@role_required("admin")
def list_suspended_mail():
    """The newest suspended messages."""
    return jsonify(data=[_serialize(held) for held in suspended.list_suspended()])


@bp.post("/suspended-mail/<int:suspended_id>/release")
@role_required("admin")
def release_suspended_mail(suspended_id: int):
    """Store a suspended message as received; it is routed like any other."""
    outcome = suspended.release(suspended_id, g.agent)
    if outcome.status == "stored":
        dispatch.notify([outcome.conversation_id])
    return jsonify(status=outcome.status, conversation_id=outcome.conversation_id)


@bp.delete("/suspended-mail/<int:suspended_id>")
@role_required("admin")
def drop_suspended_mail(suspended_id: int):
    """Delete a suspended message for good."""
    suspended.drop(suspended_id, g.agent)
    return "", 204


SCHEMAS["SuspendedMessage"] = {
    "type": "object", "required": ["id", "channel_id", "message_id", "sender", "subject", "reason", "created_at"],
    "properties": {"id": {"type": "integer"}, "channel_id": {"type": "integer"}, "message_id": {"type": "string"},
                   "sender": {"type": "string"}, "subject": {"type": "string"}, "reason": {"type": "string"},
                   "size": {"type": "integer"}, "created_at": {"type": "string"}}}
_ID = [{"name": "suspended_id", "in": "path", "required": True, "schema": ID}]
PATHS["/api/v1/suspended-mail"] = {"get": {
    "operationId": "list_suspended_mail", "summary": "Mail held back from flooding senders, newest first (200).",
    "responses": {"200": {"description": "The messages.", "content": {"application/json": {"schema": {
        "type": "object", "required": ["data"],
        "properties": {"data": {"type": "array", "items": ref("SuspendedMessage")}}}}}},
        "401": ERROR, "403": ERROR}}}
PATHS["/api/v1/suspended-mail/{suspended_id}/release"] = {"post": {
    "operationId": "release_suspended_mail", "summary": "Store the message as received (no flood check).",
    "parameters": _ID,
    "responses": {"200": {"description": "Stored (or already stored).", "content": {"application/json": {
        "schema": {"type": "object", "required": ["status", "conversation_id"],
                   "properties": {"status": {"enum": ["stored", "duplicate"]},
                                  "conversation_id": {"type": "integer"}}}}}},
        "400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR}}}
PATHS["/api/v1/suspended-mail/{suspended_id}"] = {"delete": {
    "operationId": "drop_suspended_mail", "summary": "Delete the message for good.", "parameters": _ID,
    "responses": {"204": {"description": "Deleted."}, "401": ERROR, "403": ERROR, "404": ERROR}}}
