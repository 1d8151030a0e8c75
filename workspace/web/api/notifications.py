"""Notifications over the API: your list and unread count, marking read, your push settings and devices,
and queues' on-call rotas."""

from flask import g, jsonify, request

from workspace.models import NOTIFICATION_KINDS
from workspace.serializers import (
    serialize_notification,
    serialize_notification_settings,
    serialize_on_call_shift,
    serialize_push_device,
)
from workspace.services.notifications import on_call, records, settings, subscriptions, vapid
from workspace.web.api import bp
from workspace.web.api.openapi import (
    ERROR,
    ID,
    NULLABLE_STRING,
    NULLABLE_TIME,
    PAGE_LIMIT,
    PATHS,
    SCHEMAS,
    SLUG,
    TIME,
    closed,
    json_body,
    list_of,
    ref,
    text,
    whole_number_query,
)
from workspace.web.auth import agent_required, role_required
from workspace.web.validation import page_size, whole_number


@bp.get("/notifications")
@agent_required
def list_notifications():
    """Your notifications, newest first (`unread=1` for the unread only), with your unread count."""
    rows, next_before = records.list_notifications(g.agent, limit=page_size(), before=whole_number("before"),
                                                   unread_only=request.args.get("unread") == "1")
    return jsonify(data=[serialize_notification(n) for n in rows], next_before=next_before,
                   unread=records.unread_counts([g.agent.id])[g.agent.id])


@bp.post("/notifications/read")
@agent_required
def mark_notifications_read():
    """Mark some of your notifications read (by ids, by conversation, or all)."""
    marked = records.mark_read(g.agent, request.get_json(silent=True))
    return jsonify(marked=marked, unread=records.unread_counts([g.agent.id])[g.agent.id])


@bp.get("/notifications/settings")
@agent_required
def get_notification_settings():
    """What you want pushed to your devices, and when."""
    return jsonify(serialize_notification_settings(settings.settings_for(g.agent.id)))


@bp.patch("/notifications/settings")
@agent_required
def update_notification_settings():
    """Change some of your push settings."""
    return jsonify(serialize_notification_settings(settings.update_settings(g.agent, request.get_json(silent=True))))


@bp.get("/push/key")
@agent_required
def get_push_key():
    """This server's VAPID public key, for a browser's `pushManager.subscribe`."""
    return jsonify(public_key=vapid.public_key())


@bp.get("/push/devices")
@agent_required
def list_push_devices():
    """Your devices that receive pushes."""
    return jsonify(data=[serialize_push_device(d) for d in subscriptions.list_devices(g.agent)])


@bp.post("/push/devices")
@agent_required
def add_push_device():
    """Subscribe a device: the browser's PushSubscription (endpoint and keys) and a label."""
    device = subscriptions.subscribe(g.agent, request.get_json(silent=True))
    return jsonify(serialize_push_device(device)), 201


@bp.delete("/push/devices/<int:device_id>")
@agent_required
def remove_push_device(device_id: int):
    """Stop pushing to one of your devices."""
    subscriptions.revoke(g.agent, device_id)
    return "", 204


@bp.get("/on-call")
@role_required("supervisor")
def list_on_call():
    """Who is on call now, queue by queue (supervisors)."""
    return jsonify(data=on_call.who_is_on_call())


@bp.get("/queues/<slug>/on-call")
@role_required("supervisor")
def get_on_call_rota(slug: str):
    """A queue's on-call rota (supervisors)."""
    return jsonify(data=[serialize_on_call_shift(s) for s in on_call.list_rota(on_call.find_queue(slug))])


@bp.put("/queues/<slug>/on-call")
@role_required("admin")
def replace_on_call_rota(slug: str):
    """Replace a queue's on-call rota (admins)."""
    queue = on_call.find_queue(slug)
    rows = on_call.replace_rota(queue, (request.get_json(silent=True) or {}).get("shifts"), g.agent)
    return jsonify(data=[serialize_on_call_shift(s) for s in rows])


SCHEMAS["Notification"] = {
    "type": "object",
    "required": ["id", "kind", "title", "conversation_id", "incident_id", "actor_id", "created_at", "read_at"],
    "properties": {"id": {"type": "integer"}, "kind": {"enum": list(NOTIFICATION_KINDS)}, "title": {"type": "string"},
                   "conversation_id": {"type": ["integer", "null"]}, "incident_id": {"type": ["integer", "null"]},
                   "actor_id": {"type": ["integer", "null"]}, "created_at": TIME, "read_at": NULLABLE_TIME}}
_CLOCK = {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}
SCHEMAS["NotificationSettings"] = {
    "type": "object", "required": list(settings.FIELDS),
    "properties": {
        "kinds": {"type": "array", "items": {"enum": list(NOTIFICATION_KINDS)}},
        "priorities": {"type": "array", "items": {"enum": list(settings.PRIORITIES)}},
        "muted_queues": {"type": "array", "items": {"type": "string"}},
        "time_zone": {"type": "string"}, "quiet_start": NULLABLE_STRING, "quiet_end": NULLABLE_STRING,
        "only_when_away": {"type": "boolean"}, "include_text": {"type": "boolean"},
        "webhook_url": NULLABLE_STRING, "email_enabled": {"type": "boolean"}, "email_address": NULLABLE_STRING}}
SCHEMAS["PushDevice"] = {
    "type": "object", "required": ["id", "label", "push_service", "created_at", "last_sent_at", "last_error"],
    "properties": {"id": {"type": "integer"}, "label": {"type": "string"}, "push_service": {"type": "string"},
                   "created_at": TIME, "last_sent_at": NULLABLE_TIME, "last_error": NULLABLE_STRING}}
_SHIFT_IN = closed({
    "agent_id": ID, "weekday": {"type": ["integer", "null"], "minimum": 0, "maximum": 6},
    "date": {"type": ["string", "null"], "format": "date"}, "start": _CLOCK, "end": _CLOCK,
    "position": {"type": "integer", "minimum": 0, "maximum": 100}}, required=("agent_id", "start", "end"))
SCHEMAS["OnCallShift"] = {
    "type": "object", "required": ["agent_id", "weekday", "date", "start", "end", "position"],
    "properties": {"agent_id": {"type": "integer"}, "weekday": {"type": ["integer", "null"]},
                   "date": NULLABLE_STRING, "start": {"type": "string"}, "end": {"type": "string"},
                   "position": {"type": "integer"}}}
SCHEMAS["OnCallNow"] = {
    "type": "object", "required": ["queue", "in_hours", "agents"],
    "properties": {"queue": {"type": "string"}, "in_hours": {"type": "boolean"},
                   "agents": {"type": "array", "items": {"type": "object", "required": ["id", "name"], "properties": {
                       "id": {"type": "integer"}, "name": {"type": "string"}}}}}}
_DENIED = {"401": ERROR, "403": ERROR}
_SLUG = {"name": "slug", "in": "path", "required": True, "schema": SLUG}
_UNREAD = {"type": "integer", "minimum": 0}
_B64URL = {"type": "string", "minLength": 16, "maxLength": 200, "pattern": "^[A-Za-z0-9_-]+=*$"}

PATHS["/api/v1/notifications"] = {"get": {
    "operationId": "list_notifications", "summary": "Your notifications, newest first, and your unread count.",
    "parameters": [PAGE_LIMIT, whole_number_query("before", description="the next_before of the previous page"),
                   {"name": "unread", "in": "query", "allowEmptyValue": True, "schema": {"enum": ["", "0", "1"]}}],
    "responses": {"200": json_body({"type": "object", "required": ["data", "next_before", "unread"], "properties": {
        "data": {"type": "array", "items": ref("Notification")}, "next_before": {"type": ["integer", "null"]},
        "unread": _UNREAD}}, "A page."), "400": ERROR, **_DENIED}}}
PATHS["/api/v1/notifications/read"] = {"post": {
    "operationId": "mark_notifications_read", "summary": "Mark notifications read: by ids, by conversation, or all.",
    "requestBody": {"required": True, "content": {"application/json": {"schema": {"oneOf": [
        closed({"ids": {"type": "array", "minItems": 1, "maxItems": records.MAX_MARK, "items": ID}},
               required=("ids",)),
        closed({"conversation_id": ID}, required=("conversation_id",)),
        closed({"all": {"const": True}}, required=("all",))]}}}},
    "responses": {"200": json_body({"type": "object", "required": ["marked", "unread"], "properties": {
        "marked": _UNREAD, "unread": _UNREAD}}, "Marked; your unread count now."), "400": ERROR, **_DENIED}}}
PATHS["/api/v1/notifications/settings"] = {
    "get": {"operationId": "get_notification_settings", "summary": "What you want pushed, and when.",
            "responses": {"200": json_body(ref("NotificationSettings"), "Your settings."), **_DENIED}},
    "patch": {"operationId": "update_notification_settings", "summary": "Change some of your push settings.",
              "requestBody": {"required": True, "content": {"application/json": {"schema": closed({
                  "kinds": {"type": "array", "uniqueItems": True, "items": {"enum": list(NOTIFICATION_KINDS)}},
                  "priorities": {"type": "array", "uniqueItems": True, "items": {"enum": list(settings.PRIORITIES)}},
                  "muted_queues": {"type": "array", "maxItems": 200, "items": SLUG},
                  "time_zone": text(64), "quiet_start": {"oneOf": [_CLOCK, {"type": "null"}]},
                  "quiet_end": {"oneOf": [_CLOCK, {"type": "null"}]},
                  "only_when_away": {"type": "boolean"}, "include_text": {"type": "boolean"},
                  "webhook_url": {"oneOf": [{"type": "string", "format": "uri", "minLength": 10, "maxLength": 2048},
                                            {"type": "null"}],
                                  "description": "a Slack-compatible incoming webhook (https, public) or null"},
                  "email_enabled": {"type": "boolean", "description": "mail these notifications too"},
                  "email_address": {"oneOf": [{"type": "string", "maxLength": settings.MAX_EMAIL,
                                               "pattern": settings.EMAIL_PATTERN},
                                              {"type": "null"}],
                                    "description": "where the mail goes; null: your own address"}})}}},
              "responses": {"200": json_body(ref("NotificationSettings"), "Changed."), "400": ERROR, **_DENIED}}}
PATHS["/api/v1/push/key"] = {"get": {
    "operationId": "get_push_key", "summary": "The VAPID public key (base64url), for pushManager.subscribe.",
    "responses": {"200": json_body({"type": "object", "required": ["public_key"], "properties": {
        "public_key": {"type": "string"}}}, "The key."), **_DENIED}}}
PATHS["/api/v1/push/devices"] = {
    "get": {"operationId": "list_push_devices", "summary": "Your devices that receive pushes.",
            "responses": {"200": list_of("PushDevice"), **_DENIED}},
    "post": {"operationId": "add_push_device",
             "summary": "Subscribe a device (a browser's PushSubscription JSON); https public endpoints only.",
             "requestBody": {"required": True, "content": {"application/json": {"schema": {
                 "type": "object", "required": ["endpoint", "keys"], "properties": {
                     "endpoint": {"type": "string", "minLength": 10, "maxLength": 2048, "format": "uri"},
                     "expirationTime": {"type": ["number", "null"]},
                     "keys": closed({"p256dh": _B64URL, "auth": _B64URL}, required=("p256dh", "auth")),
                     "label": text(120, blank=True)}, "additionalProperties": False}}}},
             "responses": {"201": json_body(ref("PushDevice"), "Subscribed."), "400": ERROR, **_DENIED}}}
PATHS["/api/v1/push/devices/{device_id}"] = {"delete": {
    "operationId": "remove_push_device", "summary": "Stop pushing to one of your devices.",
    "parameters": [{"name": "device_id", "in": "path", "required": True, "schema": ID}],
    "responses": {"204": {"description": "Removed."}, **_DENIED, "404": ERROR}}}
PATHS["/api/v1/on-call"] = {"get": {
    "operationId": "list_on_call", "summary": "Who is on call now, per queue (supervisors).",
    "responses": {"200": list_of("OnCallNow"), **_DENIED}}}
PATHS["/api/v1/queues/{slug}/on-call"] = {
    "get": {"operationId": "get_on_call_rota", "summary": "A queue's on-call rota (supervisors).",
            "parameters": [_SLUG], "responses": {"200": list_of("OnCallShift"), **_DENIED, "404": ERROR}},
    "put": {"operationId": "replace_on_call_rota",
            "summary": ("Replace a queue's rota (admins): weekly shifts (weekday 0 = Monday) and a day's "
                        "overrides (date), in the time zone of the queue's calendar."),
            "parameters": [_SLUG],
            "requestBody": {"required": True, "content": {"application/json": {"schema": closed({
                "shifts": {"type": "array", "maxItems": on_call.MAX_SHIFTS, "items": _SHIFT_IN}},
                required=("shifts",))}}},
            "responses": {"200": list_of("OnCallShift"), "400": ERROR, **_DENIED, "404": ERROR}}}
