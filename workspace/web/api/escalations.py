"""Escalating a conversation to a ticket in the ticketing system."""

from flask import g, jsonify

from workspace.extensions import db
from workspace.models import Conversation
from workspace.services.conversations.actions import ensure_visible
from workspace.services.escalation.signature import SIGNATURE_HEADER
from workspace.services.escalation.tickets import escalate
from workspace.web.api import bp
from workspace.web.api.conversations import conversation_detail
from workspace.web.api.openapi import DOCUMENT, ERROR, ID, PATHS, SCHEMAS, json_body, ref
from workspace.web.auth import agent_required


@bp.post("/conversations/<int:conversation_id>/escalate")
@agent_required
def escalate_conversation(conversation_id: int):
    """Escalate to a ticket: 202 while it is being created, 200 when it was already escalated (one ticket)."""
    escalation, created = escalate(ensure_visible(db.session.get(Conversation, conversation_id), g.agent), g.agent)
    return jsonify(conversation_detail(escalation.conversation)), 202 if created else 200


_DETAIL = json_body(ref("ConversationDetail"), "The conversation, with its escalation.")
SCHEMAS["Escalation"] = {
    "type": ["object", "null"],
    "required": ["state", "ticket_id", "ticket_url", "ticket_status", "attempts", "last_error", "requested_at",
                 "created_at", "agent"],
    "properties": {
        "state": {"enum": ["pending", "created"], "description": "pending until the ticket exists"},
        "ticket_id": {"type": ["integer", "null"]}, "ticket_url": {"type": ["string", "null"]},
        "ticket_status": {"type": ["string", "null"], "description": "new, open, pending, hold, solved, closed"},
        "attempts": {"type": "integer"}, "last_error": {"type": ["string", "null"]},
        "requested_at": {"type": "string", "format": "date-time"},
        "created_at": {"type": ["string", "null"], "format": "date-time"}, "agent": ref("Agent"),
    },
}
PATHS["/api/v1/conversations/{conversation_id}/escalate"] = {"post": {
    "operationId": "escalate_conversation",
    "summary": "Escalate to a ticket in the ticketing system (created by a job, retried while it is down). "
               "Escalating again returns the same escalation: one ticket per conversation.",
    "parameters": [{"name": "conversation_id", "in": "path", "required": True, "schema": ID}],
    "responses": {"202": _DETAIL, "200": _DETAIL, "400": ERROR, "401": ERROR, "404": ERROR}}}
PATHS["/webhooks/ticketing/status"] = {"post": {
    "operationId": "receive_ticket_status",
    "summary": "A ticket's status changed in the ticketing system (a Zendesk trigger's webhook, or the stub's).",
    "security": [{"zendesk_signature": []}],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["ticket"], "properties": {"ticket": {
            "type": "object", "required": ["id", "status"],
            "properties": {"id": {"type": ["integer", "string"]}, "status": {"type": "string"},
                           "external_id": {"type": ["string", "integer", "null"]}}}}}}}},
    "responses": {
        "200": json_body({"type": "object", "required": ["ticket_id", "conversation_id", "ticket_status", "status"],
                          "properties": {"ticket_id": {"type": "integer"}, "conversation_id": {"type": "integer"},
                                         "ticket_status": {"type": "string"}, "status": {"type": "string"}}},
                         "Applied (or already applied, or older than what was)."),
        "400": ERROR, "401": ERROR, "404": ERROR, "413": ERROR}}}
DOCUMENT["components"]["securitySchemes"]["zendesk_signature"] = {
    "type": "apiKey", "in": "header", "name": SIGNATURE_HEADER,
    "description": "base64 HMAC-SHA256 of X-Zendesk-Webhook-Signature-Timestamp + raw body, with the webhook secret"}
