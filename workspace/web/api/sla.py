"""SLA and assignment endpoints: calendars (and iCalendar import), SLA policies, capacities, assignment history."""

import sqlalchemy as sa
from flask import g, jsonify, request

from sla.calendar import DAYS, MAX_HOLIDAYS, MAX_WINDOWS_PER_DAY
from workspace.errors import ValidationError
from workspace.extensions import db
from workspace.models import Agent, Assignment, BusinessCalendar, Conversation, Priority, Queue, SlaPolicy
from workspace.serializers import serialize_assignment, serialize_calendar, serialize_sla_policy
from workspace.services.admin import MAX_CAPACITY, find
from workspace.services.conversations.actions import ensure_visible
from workspace.services.service_levels import admin, clocks
from workspace.services.service_levels.admin import MAX_TARGET_MINUTES, TARGETS
from workspace.web.api import bp
from workspace.web.api.openapi import (
    ERROR,
    ID,
    NULLABLE_STRING,
    PATHS,
    SCHEMAS,
    TIME,
    closed,
    json_body,
    list_of,
    ref,
    text,
)
from workspace.web.auth import agent_required, role_required


@bp.get("/calendars")
@role_required("supervisor")
def list_calendars():
    """List business-hours calendars."""
    rows = db.session.scalars(sa.select(BusinessCalendar).order_by(BusinessCalendar.name)).all()
    return jsonify(data=[serialize_calendar(row) for row in rows])


@bp.post("/calendars")
@role_required("admin")
def create_calendar():
    """Create a calendar: name, time zone, weekly hours, holidays."""
    return jsonify(serialize_calendar(admin.save_calendar(None, request.get_json(silent=True), g.agent))), 201


@bp.get("/calendars/<int:calendar_id>")
@role_required("supervisor")
def get_calendar(calendar_id: int):
    """Show one calendar."""
    return jsonify(serialize_calendar(find(BusinessCalendar, id=calendar_id)))


@bp.patch("/calendars/<int:calendar_id>")
@role_required("admin")
def update_calendar(calendar_id: int):
    """Change a calendar's name, time zone, hours or holidays."""
    calendar = find(BusinessCalendar, id=calendar_id)
    return jsonify(serialize_calendar(admin.save_calendar(calendar, request.get_json(silent=True), g.agent)))


@bp.delete("/calendars/<int:calendar_id>")
@role_required("admin")
def delete_calendar(calendar_id: int):
    """Delete a calendar that no policy uses."""
    admin.delete_calendar(find(BusinessCalendar, id=calendar_id), g.agent)
    return "", 204


@bp.post("/calendars/<int:calendar_id>/import")
@role_required("admin")
def import_calendar_holidays(calendar_id: int):
    """Add the events of an iCalendar file (text/calendar body, or JSON {"ical"}) as holidays; ?replace=true swaps."""
    calendar = find(BusinessCalendar, id=calendar_id)
    if request.mimetype == "application/json":
        body = request.get_json(silent=True)
        text = body.get("ical") if isinstance(body, dict) else None
    elif request.mimetype == "text/calendar":
        try:
            text = request.get_data().decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError("ical: the file is not UTF-8 text", code="invalid_ical")
    else:
        raise ValidationError("send the file as text/calendar, or JSON {\"ical\": \"...\"}", code="invalid_ical")
    replace = request.args.get("replace", "false")
    if replace not in ("true", "false"):
        raise ValidationError("replace: true or false", code="invalid_field")
    result = admin.import_ical(calendar, text, g.agent, replace=replace == "true")
    return jsonify(imported=result["imported"], skipped=result["skipped"],
                   calendar=serialize_calendar(result["calendar"]))


@bp.get("/queues/<slug>/sla")
@role_required("supervisor")
def get_queue_sla(slug: str):
    """A queue's assignment strategy and its SLA policy per priority level."""
    queue = find(Queue, slug=slug)
    policies = db.session.scalars(sa.select(SlaPolicy).where(SlaPolicy.queue_id == queue.id)
                                  .order_by(SlaPolicy.priority)).all()
    # plain_minutes: the first-reply target of each level without a policy, so an editor shows what applies.
    plain = {level.label: clocks.sla_minutes(queue, level) for level in Priority}
    return jsonify(queue=queue.slug, assignment=queue.assignment, sla_minutes=queue.sla_minutes,
                   plain_minutes=plain, policies=[serialize_sla_policy(policy) for policy in policies])


@bp.put("/queues/<slug>/sla/<level>")
@role_required("admin")
def set_queue_sla_policy(slug: str, level: str):
    """Set a queue's SLA policy for one priority level (targets, business or calendar time, at-risk share)."""
    queue = find(Queue, slug=slug)
    return jsonify(serialize_sla_policy(admin.save_policy(queue, level, request.get_json(silent=True), g.agent)))


@bp.delete("/queues/<slug>/sla/<level>")
@role_required("admin")
def delete_queue_sla_policy(slug: str, level: str):
    """Remove a queue's policy for a level; its plain first-reply target applies again."""
    admin.delete_policy(find(Queue, slug=slug), level, g.agent)
    return "", 204


@bp.put("/queues/<slug>/members/<int:agent_id>")
@role_required("admin")
def set_member_capacity(slug: str, agent_id: int):
    """Set how many open conversations of this queue automatic assignment may give an agent."""
    queue, agent = find(Queue, slug=slug), find(Agent, id=agent_id)
    capacity = admin.set_member_capacity(queue, agent, request.get_json(silent=True), g.agent)
    return jsonify(queue=queue.slug, agent_id=agent.id, capacity=capacity)


@bp.get("/conversations/<int:conversation_id>/assignments")
@agent_required
def list_conversation_assignments(conversation_id: int):
    """Every automatic assignment and return of a conversation, with why, newest first."""
    ensure_visible(db.session.get(Conversation, conversation_id), g.agent)
    rows = db.session.scalars(sa.select(Assignment).where(Assignment.conversation_id == conversation_id)
                              .order_by(Assignment.id.desc())).all()
    return jsonify(data=[serialize_assignment(row) for row in rows])


_NULLABLE_MINUTES = {"type": ["integer", "null"], "minimum": 1}
SCHEMAS["Calendar"] = {
    "type": "object", "required": ["id", "name", "time_zone", "hours", "holidays"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "time_zone": {"type": "string"},
                   "hours": {"type": "object", "description": '{"mon": [["09:00", "17:00"]], ...}',
                             "additionalProperties": {"type": "array", "items": {
                                 "type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}}},
                   "holidays": {"type": "array", "items": {"type": "object", "required": ["start", "end"],
                                                           "properties": {"name": {"type": "string"},
                                                                          "start": {"type": "string"},
                                                                          "end": {"type": "string"}}}},
                   "updated_at": TIME}}
SCHEMAS["SlaPolicy"] = {
    "type": "object", "required": ["priority", "first_reply_minutes", "next_reply_minutes", "resolution_minutes",
                                   "business_hours", "calendar", "at_risk_fraction"],
    "properties": {"priority": {"enum": ["urgent", "high", "normal", "low"]},
                   "first_reply_minutes": _NULLABLE_MINUTES, "next_reply_minutes": _NULLABLE_MINUTES,
                   "resolution_minutes": _NULLABLE_MINUTES, "business_hours": {"type": "boolean"},
                   "calendar": NULLABLE_STRING, "at_risk_fraction": {"type": ["number", "null"]}}}
SCHEMAS["Assignment"] = {
    "type": "object", "required": ["id", "kind", "strategy", "agent", "reason", "candidates", "created_at"],
    "properties": {"id": {"type": "integer"}, "kind": {"enum": ["assigned", "returned"]},
                   "strategy": {"type": "string"}, "agent": ref("Agent"), "reason": {"type": "string"},
                   "candidates": {"type": "array", "items": {"type": "object", "properties": {
                       "agent_id": {"type": "integer"}, "name": {"type": "string"},
                       "outcome": {"enum": ["chosen", "eligible", "offline", "away", "at_capacity", "not_in_queue"]},
                       "reason": {"type": "string"}, "load": {"type": "integer"}, "capacity": {"type": "integer"}}}},
                   "created_at": TIME}}
SCHEMAS["Sla"] = {
    "type": "object", "required": ["status", "paused", "targets"],
    "description": "The running SLA clocks: first_reply, next_reply, resolution.",
    "properties": {"status": {"enum": [None, "ok", "at_risk", "breached"]}, "paused": {"type": "boolean"},
                   "targets": {"type": "object", "additionalProperties": {"type": "object", "properties": {
                       "started_at": TIME, "due_at": TIME, "at_risk_at": TIME, "minutes": {"type": "integer"},
                       "state": {"enum": ["ok", "at_risk", "breached"]}, "business_hours": {"type": "boolean"}}}}}}
SCHEMAS["Conversation"]["properties"]["sla_status"] = {
    "enum": [None, "ok", "at_risk", "breached"], "description": "the worst state of its running SLA clocks"}
SCHEMAS["ConversationDetail"]["allOf"][1]["properties"].update(
    sla=ref("Sla"), assignment={"oneOf": [ref("Assignment"), {"type": "null"}]})
SCHEMAS["Queue"]["properties"]["assignment"] = {"enum": ["off", "round_robin", "least_loaded"]}

_ADMIN = {"400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR}


def _body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_WINDOW = {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "string", "pattern": "^[0-9]{2}:[0-9]{2}$"}}
_CALENDAR_FIELDS = {
    "name": text(120), "time_zone": {"type": "string", "maxLength": 100, "description": "an IANA time zone"},
    "hours": {"type": "object", "additionalProperties": False, "minProperties": 1, "properties": {
        day: {"type": ["array", "null"], "maxItems": MAX_WINDOWS_PER_DAY, "items": _WINDOW} for day in DAYS}},
    "holidays": {"type": "array", "maxItems": MAX_HOLIDAYS, "items": {
        "type": "object", "required": ["start"], "properties": {
            "name": {"type": "string"}, "start": {"type": "string"}, "end": {"type": "string"}}}}}
_CALENDAR_NOTE = ("Hours and holidays are checked as a whole (an unknown time zone, overlapping windows, a closure "
                  "ending before it starts): 400 invalid_calendar, saying which.")
_MINUTES = {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_TARGET_MINUTES}
_POLICY = closed(
    {**{f"{target}_minutes": _MINUTES for target in TARGETS}, "business_hours": {"type": "boolean"},
     "calendar": {"type": ["string", "null"], "description": "a calendar's name; one that names none is a 404"},
     "at_risk_fraction": {"type": ["number", "null"], "exclusiveMinimum": 0, "exclusiveMaximum": 1}},
    anyOf=[{"required": [f"{target}_minutes"], "properties": {f"{target}_minutes": {"type": "integer"}}}
           for target in TARGETS],
    **{"x-error": "a policy needs at least one of first_reply_minutes, next_reply_minutes, resolution_minutes",
       # Business hours are counted on a calendar: it must be named.
       "if": {"required": ["business_hours"], "properties": {"business_hours": {"const": True}}},
       "then": {"required": ["calendar"], "properties": {"calendar": {"type": "string"}},
                "x-error": "calendar: business hours need a calendar (or set business_hours false)"}})
_CALENDAR_ID = [{"name": "calendar_id", "in": "path", "required": True, "schema": ID}]
_SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
_LEVEL = {"name": "level", "in": "path", "required": True,
          "schema": {"enum": ["urgent", "high", "normal", "low"]}}
_DELETED = {"description": "Deleted."}
_ICAL_ERROR = {"x-error": "ical: the file's text (an iCalendar, BEGIN:VCALENDAR ...)"}


PATHS["/api/v1/calendars"] = {
    "get": {"operationId": "list_calendars", "summary": "Business-hours calendars (supervisors).",
            "responses": {"200": list_of("Calendar"), "401": ERROR, "403": ERROR}},
    "post": {"operationId": "create_calendar", "summary": "Create a calendar (admins).", "description": _CALENDAR_NOTE,
             "requestBody": _body(closed(_CALENDAR_FIELDS, required=("name", "time_zone", "hours"))),
             "responses": {"201": json_body(ref("Calendar"), "Created."), **_ADMIN, "409": ERROR}}}
PATHS["/api/v1/calendars/{calendar_id}"] = {
    "get": {"operationId": "get_calendar", "summary": "One calendar (supervisors).", "parameters": _CALENDAR_ID,
            "responses": {"200": json_body(ref("Calendar"), "The calendar."), "401": ERROR, "403": ERROR,
                          "404": ERROR}},
    "patch": {"operationId": "update_calendar", "summary": "Change a calendar (admins).", "parameters": _CALENDAR_ID,
              "description": _CALENDAR_NOTE, "requestBody": _body(closed(_CALENDAR_FIELDS)),
              "responses": {"200": json_body(ref("Calendar"), "Changed."), **_ADMIN, "409": ERROR}},
    "delete": {"operationId": "delete_calendar", "summary": "Delete a calendar no policy uses (admins).",
               "parameters": _CALENDAR_ID, "responses": {"204": _DELETED, **_ADMIN, "409": ERROR}}}
PATHS["/api/v1/calendars/{calendar_id}/import"] = {"post": {
    "operationId": "import_calendar_holidays",
    "summary": "Add an iCalendar file's events as holidays (admins); replace=true replaces them.",
    "description": "A file that is not iCalendar text is 400 invalid_ical.",
    "parameters": [*_CALENDAR_ID, {"name": "replace", "in": "query", "schema": {"type": "boolean"}}],
    "requestBody": {"required": True, "content": {
        "text/calendar": {"schema": {"type": "string"}},
        "application/json": {"schema": closed({"ical": {"type": "string"}}, required=("ical",), **_ICAL_ERROR)}}},
    "responses": {"200": json_body({"type": "object", "required": ["imported", "skipped", "calendar"], "properties": {
        "imported": {"type": "integer"}, "skipped": {"type": "array", "items": {"type": "string"}},
        "calendar": ref("Calendar")}}, "Imported."), **_ADMIN}}}
PATHS["/api/v1/queues/{slug}/sla"] = {"get": {
    "operationId": "get_queue_sla", "summary": "A queue's assignment strategy and SLA policies (supervisors).",
    "parameters": [_SLUG],
    "responses": {"200": json_body({"type": "object", "required": ["queue", "assignment", "policies"], "properties": {
        "queue": {"type": "string"}, "assignment": {"type": "string"}, "sla_minutes": {"type": ["object", "null"]},
        "plain_minutes": {"type": "object", "additionalProperties": {"type": "integer"},
                          "description": "Each level's first-reply target where it has no policy (minutes)."},
        "policies": {"type": "array", "items": ref("SlaPolicy")}}}, "The queue's SLA."),
        "401": ERROR, "403": ERROR, "404": ERROR}}}
PATHS["/api/v1/queues/{slug}/sla/{level}"] = {
    "put": {"operationId": "set_queue_sla_policy", "summary": "Set the policy for one priority level (admins).",
            "parameters": [_SLUG, _LEVEL], "requestBody": _body(_POLICY),
            "responses": {"200": json_body(ref("SlaPolicy"), "Set."), **_ADMIN}},
    "delete": {"operationId": "delete_queue_sla_policy", "summary": "Remove the policy for a level (admins).",
               "parameters": [_SLUG, _LEVEL], "responses": {"204": _DELETED, **_ADMIN}}}
PATHS["/api/v1/queues/{slug}/members/{agent_id}"] = {"put": {
    "operationId": "set_member_capacity",
    "summary": "How many open conversations of this queue assignment may give an agent (admins).",
    "description": "An agent who does not work the queue is 400 not_a_member.",
    "parameters": [_SLUG, {"name": "agent_id", "in": "path", "required": True, "schema": ID}],
    "requestBody": _body(closed({"capacity": {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_CAPACITY}},
                                required=("capacity",))),
    "responses": {"200": json_body({"type": "object", "properties": {
        "queue": {"type": "string"}, "agent_id": {"type": "integer"},
        "capacity": {"type": ["integer", "null"]}}}, "Set."), **_ADMIN}}}
PATHS["/api/v1/conversations/{conversation_id}/assignments"] = {"get": {
    "operationId": "list_conversation_assignments",
    "summary": "A conversation's automatic assignments and returns, with why, newest first.",
    "parameters": [{"name": "conversation_id", "in": "path", "required": True, "schema": ID}],
    "responses": {"200": list_of("Assignment"), "401": ERROR, "404": ERROR}}}
