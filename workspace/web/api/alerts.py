"""Telling engineering (admins): the incident webhook, tickets for incidents, and the weekly report's mail."""

from flask import g, jsonify, request

from workspace.services.alerts import settings
from workspace.services.notifications.settings import EMAIL_PATTERN, MAX_EMAIL
from workspace.services.subscriptions.targets import MAX_URL_CHARS
from workspace.web.api import bp
from workspace.web.api.openapi import ERROR, PATHS, SCHEMAS, closed, json_body, ref
from workspace.web.auth import role_required


@bp.get("/alerts/settings")
@role_required("admin")
def get_alert_settings():
    """Where incidents are posted (by host only), whether they open tickets, and the weekly report's mail."""
    return jsonify(settings.serialize(settings.current()))


@bp.patch("/alerts/settings")
@role_required("admin")
def update_alert_settings():
    """Change some alert settings; the webhook URL must be https on a public address."""
    return jsonify(settings.serialize(settings.update(request.get_json(silent=True), g.agent)))


SCHEMAS["AlertSettings"] = {
    "type": "object", "required": ["slack_webhook", "incident_tickets", "report_enabled", "report_recipients",
                                   "report_weekday", "report_hour", "report_last_week"],
    "properties": {
        "slack_webhook": {"type": ["object", "null"], "properties": {"host": {"type": "string"}},
                          "description": "the incoming webhook incidents are posted to, by its host only (the URL "
                                         "is a secret), or null"},
        "incident_tickets": {"type": "boolean", "description": "each incident also opens one ticket"},
        "report_enabled": {"type": "boolean"},
        "report_recipients": {"type": "array", "items": {"type": "string"}},
        "report_weekday": {"type": "integer", "minimum": 0, "maximum": 6, "description": "0 Monday … 6 Sunday"},
        "report_hour": {"type": "integer", "minimum": 0, "maximum": 23, "description": "UTC"},
        "report_last_week": {"type": ["string", "null"], "description": "the ISO week of the last report sent"},
        "report_last_sent_at": {"type": ["string", "null"]}, "updated_at": {"type": ["string", "null"]}}}
_BODY = closed({
    "slack_webhook_url": {"type": ["string", "null"], "maxLength": MAX_URL_CHARS,
                          "pattern": "^(|[Hh][Tt][Tt][Pp][Ss]?://[^\\s\\x00]+)$",
                          "description": "a Slack-compatible incoming webhook: https on a public address; "
                                         "null or empty to stop posting"},
    "incident_tickets": {"type": "boolean"}, "report_enabled": {"type": "boolean"},
    "report_recipients": {"type": "array", "maxItems": settings.MAX_RECIPIENTS,
                          "items": {"type": "string", "maxLength": MAX_EMAIL, "pattern": EMAIL_PATTERN}},
    "report_weekday": {"type": "integer", "minimum": 0, "maximum": 6},
    "report_hour": {"type": "integer", "minimum": 0, "maximum": 23}})
_ONE = json_body(ref("AlertSettings"), "The settings.")
PATHS["/api/v1/alerts/settings"] = {
    "get": {"operationId": "get_alert_settings", "summary": "The engineering alert settings (admins).",
            "responses": {"200": _ONE, "401": ERROR, "403": ERROR}},
    "patch": {"operationId": "update_alert_settings", "summary": "Change the engineering alert settings (admins).",
              "requestBody": {"required": True, "content": {"application/json": {"schema": _BODY}}},
              "responses": {"200": _ONE, "400": ERROR, "401": ERROR, "403": ERROR}}}
