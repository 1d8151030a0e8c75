"""The endpoint ticket status changes arrive at, signed Zendesk style (the stub's, or a real Zendesk's)."""

from flask import Blueprint, current_app, jsonify, request

from workspace.errors import Unauthorized, ValidationError
from workspace.services.escalation.signature import signed_at
from workspace.services.escalation.tickets import apply_ticket_status
from workspace.web.webhooks.channels import decode_json

bp = Blueprint("ticketing", __name__)

STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
# The ticketing team's latest public comment is quoted in the conversation's note, this much of it.
MAX_COMMENT_CHARS = 4000


@bp.post("/webhooks/ticketing/status")
def receive_ticket_status():
    """Apply a ticket's new status to its conversation; 401 unless signed with the webhook secret, recently."""
    body = request.get_data(cache=False)
    at = signed_at(current_app.config["TICKETING_WEBHOOK_SECRET"] or "", request.headers, body)
    if at is None:
        raise Unauthorized("the X-Zendesk-Webhook-Signature is missing, wrong or more than 5 minutes old",
                           code="bad_signature")
    ticket_id, external_id, status, comment = parse(decode_json(body))
    escalation = apply_ticket_status(ticket_id, external_id, status, at, comment=comment)
    return jsonify(ticket_id=ticket_id, conversation_id=escalation.conversation_id,
                   ticket_status=escalation.ticket_status, status=escalation.conversation.status)


def parse(payload) -> tuple[int, str | None, str, str | None]:
    """Read {"ticket": {"id", "status"[, "external_id", "latest_public_comment"]}}; ids may be strings, as
    Zendesk placeholders render them.

    Returns:
        (ticket id, external id or None, status in lower case, the latest public comment or None).
    """
    ticket = payload.get("ticket") if isinstance(payload, dict) else None
    if not isinstance(ticket, dict):
        raise ValidationError('body: a JSON object like {"ticket": {"id": ..., "status": ...}}', code="invalid_field")
    raw_id = ticket.get("id")
    # A ticket number is a BIGINT; the length check keeps int() from '²' and from thousands of digits.
    if isinstance(raw_id, bool) or not (isinstance(raw_id, int) or isinstance(raw_id, str) and raw_id.isascii()
                                        and raw_id.isdigit() and len(raw_id) <= 19) or not 0 < int(raw_id) < 2**63:
        raise ValidationError("ticket.id: must be a ticket number", code="invalid_field")
    status = ticket.get("status")
    if not isinstance(status, str) or status.strip().lower() not in STATUSES:
        raise ValidationError(f"ticket.status: must be one of {', '.join(STATUSES)}", code="invalid_field")
    external_id = ticket.get("external_id")
    comment = ticket.get("latest_public_comment")
    if comment is not None and not isinstance(comment, str):
        raise ValidationError("ticket.latest_public_comment: must be text", code="invalid_field")
    comment = comment.strip()[:MAX_COMMENT_CHARS].replace("\x00", "") if comment else None
    return int(raw_id), str(external_id) if isinstance(external_id, int | str) and external_id != "" else None, \
        status.strip().lower(), comment or None
