"""Outbound event subscriptions (admins): list, create, change, delete, send a test event, read the delivery log."""

from flask import g, jsonify, request

from workspace.errors import SwitchboardError
from workspace.extensions import db
from workspace.models import DELIVERY_STATES, EVENTS, EventDelivery
from workspace.serializers import timestamp
from workspace.services.subscriptions import library
from workspace.services.subscriptions.delivery import record
from workspace.services.subscriptions.targets import MAX_URL_CHARS
from workspace.web.api import bp
from workspace.web.api.openapi import ERROR, ID, PATHS, SCHEMAS, closed, json_body, list_of, ref
from workspace.web.auth import role_required


def serialize_subscription(subscription) -> dict:
    """A subscription as admins see it, with its signing secret and why it was disabled."""
    return {"id": subscription.id, **library.snapshot(subscription), "secret": subscription.secret,
            "consecutive_failures": subscription.consecutive_failures,
            "disabled_reason": subscription.disabled_reason,
            "created_at": timestamp(subscription.created_at), "updated_at": timestamp(subscription.updated_at)}


def serialize_delivery(delivery: EventDelivery) -> dict:
    """One delivery of the log: the event, its state, attempts and the last answer or error."""
    return {"id": delivery.id, "subscription_id": delivery.subscription_id, "event": delivery.event,
            "state": delivery.state, "attempts": delivery.attempts, "response_status": delivery.response_status,
            "error": delivery.error, "payload": delivery.payload, "created_at": timestamp(delivery.created_at),
            "delivered_at": timestamp(delivery.delivered_at)}


@bp.get("/subscriptions")
@role_required("admin")
def list_subscriptions():
    """Every subscription, oldest first."""
    return jsonify(data=[serialize_subscription(s) for s in library.list_subscriptions()])


@bp.post("/subscriptions")
@role_required("admin")
def create_subscription():
    """Subscribe a URL to events; the answer carries the secret its deliveries are signed with."""
    subscription = library.save_subscription(None, request.get_json(silent=True), g.agent)
    return jsonify(serialize_subscription(subscription)), 201


@bp.get("/subscriptions/<int:subscription_id>")
@role_required("admin")
def get_subscription(subscription_id: int):
    """Show one subscription."""
    return jsonify(serialize_subscription(library.get_subscription(subscription_id)))


@bp.patch("/subscriptions/<int:subscription_id>")
@role_required("admin")
def update_subscription(subscription_id: int):
    """Change the URL or events, enable (after an automatic disabling) or disable, or rotate the secret."""
    subscription = library.get_subscription(subscription_id)
    return jsonify(serialize_subscription(library.save_subscription(subscription, request.get_json(silent=True),
                                                                    g.agent)))


@bp.delete("/subscriptions/<int:subscription_id>")
@role_required("admin")
def delete_subscription(subscription_id: int):
    """Delete a subscription and its log."""
    library.delete_subscription(library.get_subscription(subscription_id), g.agent)
    return "", 204


@bp.post("/subscriptions/<int:subscription_id>/test")
@role_required("admin")
def test_subscription(subscription_id: int):
    """Send a `ping` event to the subscription now (through the worker, signed like any event)."""
    subscription = library.get_subscription(subscription_id)
    if not subscription.enabled:
        raise SwitchboardError("the subscription is disabled: enable it first", code="disabled", status=409)
    [delivery_id] = record("ping", [{"message": "a test event from Switchboard"}], subscription_id=subscription.id)
    return jsonify(serialize_delivery(db.session.get(EventDelivery, delivery_id))), 202


@bp.get("/subscriptions/<int:subscription_id>/deliveries")
@role_required("admin")
def list_subscription_deliveries(subscription_id: int):
    """The subscription's latest deliveries, newest first."""
    library.get_subscription(subscription_id)
    return jsonify(data=[serialize_delivery(d) for d in library.delivery_log(subscription_id)])


SCHEMAS["Subscription"] = {
    "type": "object", "required": ["id", "url", "events", "enabled", "secret", "consecutive_failures",
                                   "disabled_reason"],
    "properties": {"id": {"type": "integer"}, "url": {"type": "string"},
                   "events": {"type": "array", "items": {"enum": list(EVENTS)}}, "enabled": {"type": "boolean"},
                   "secret": {"type": "string", "description": "the HMAC key of X-Switchboard-Signature"},
                   "consecutive_failures": {"type": "integer"}, "disabled_reason": {"type": ["string", "null"]},
                   "created_at": {"type": "string"}, "updated_at": {"type": "string"}}}
SCHEMAS["EventDelivery"] = {
    "type": "object", "required": ["id", "subscription_id", "event", "state", "attempts", "response_status",
                                   "error", "payload", "created_at", "delivered_at"],
    "properties": {"id": {"type": "integer"}, "subscription_id": {"type": "integer"}, "event": {"type": "string"},
                   "state": {"enum": list(DELIVERY_STATES)}, "attempts": {"type": "integer"},
                   "response_status": {"type": ["integer", "null"]}, "error": {"type": ["string", "null"]},
                   "payload": {"type": "object"}, "created_at": {"type": "string"},
                   "delivered_at": {"type": ["string", "null"]}}}
_FIELDS = {"url": {"type": "string", "minLength": 1, "maxLength": MAX_URL_CHARS,
                   "description": "http(s); private, loopback and reserved addresses are refused (400 invalid_url)"},
           "events": {"type": "array", "minItems": 1, "maxItems": len(EVENTS), "items": {"enum": list(EVENTS)}},
           "enabled": {"type": "boolean"}, "rotate_secret": {"type": "boolean"}}
_ADMIN = {"400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR}
_ID = [{"name": "subscription_id", "in": "path", "required": True, "schema": ID}]
_NOTE = ("Each event is POSTed as JSON {id, event, created_at, data} with X-Switchboard-Event, X-Switchboard-Delivery, "
         "X-Switchboard-Timestamp and X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of \"<timestamp>.<body>\" "
         "with the secret>; retried with backoff; disabled after repeated failures (docs/events.md).")


def _body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


PATHS["/api/v1/subscriptions"] = {
    "get": {"operationId": "list_subscriptions", "summary": "Outbound event subscriptions (admins).",
            "description": _NOTE, "responses": {"200": list_of("Subscription"), "401": ERROR, "403": ERROR}},
    "post": {"operationId": "create_subscription", "summary": "Subscribe a URL to events (admins).",
             "description": _NOTE, "requestBody": _body(closed(_FIELDS, required=("url", "events"))),
             "responses": {"201": json_body(ref("Subscription"), "Created."), **_ADMIN}}}
PATHS["/api/v1/subscriptions/{subscription_id}"] = {
    "get": {"operationId": "get_subscription", "summary": "One subscription (admins).", "parameters": _ID,
            "responses": {"200": json_body(ref("Subscription"), "The subscription."), "401": ERROR, "403": ERROR,
                          "404": ERROR}},
    "patch": {"operationId": "update_subscription", "summary": "Change a subscription (admins).", "parameters": _ID,
              "description": "Enabling a disabled one resets its failure count.",
              "requestBody": _body(closed(_FIELDS, minProperties=1)),
              "responses": {"200": json_body(ref("Subscription"), "Changed."), **_ADMIN}},
    "delete": {"operationId": "delete_subscription", "summary": "Delete a subscription and its log (admins).",
               "parameters": _ID, "responses": {"204": {"description": "Deleted."}, **_ADMIN}}}
PATHS["/api/v1/subscriptions/{subscription_id}/test"] = {"post": {
    "operationId": "test_subscription", "summary": "Send a ping event now (admins).", "parameters": _ID,
    "description": "A disabled subscription is 409 disabled.",
    "responses": {"202": json_body(ref("EventDelivery"), "Queued for the worker."), **_ADMIN, "409": ERROR}}}
PATHS["/api/v1/subscriptions/{subscription_id}/deliveries"] = {"get": {
    "operationId": "list_subscription_deliveries", "summary": "The latest 100 deliveries, newest first (admins).",
    "parameters": _ID, "responses": {"200": list_of("EventDelivery"), "401": ERROR, "403": ERROR, "404": ERROR}}}
