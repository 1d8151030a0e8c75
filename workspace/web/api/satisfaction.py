"""Satisfaction (CSAT): a conversation's answer, and the figures per agent and queue for supervisors."""

from datetime import timedelta

from flask import g, jsonify

from workspace.extensions import db
from workspace.models import Conversation, utcnow
from workspace.serializers import serialize_rating, timestamp
from workspace.services import satisfaction
from workspace.services.conversations.actions import ensure_visible
from workspace.web.api import bp
from workspace.web.api.openapi import ERROR, ID, PATHS, SCHEMAS, json_body, ref, whole_number_query
from workspace.web.auth import agent_required, role_required
from workspace.web.validation import whole_number

MAX_DAYS = 366


@bp.get("/conversations/<int:conversation_id>/satisfaction")
@agent_required
def get_conversation_satisfaction(conversation_id: int):
    """The customer's answer to the survey (null until they answer) and the link to send them."""
    conversation = ensure_visible(db.session.get(Conversation, conversation_id), g.agent)
    return jsonify(rating=serialize_rating(satisfaction.rating_of(conversation.id)),
                   survey_url=satisfaction.survey_url(conversation.id))


@bp.get("/satisfaction")
@role_required("supervisor")
def satisfaction_summary():
    """Answers of the last `days` (7): count, average and share satisfied, overall, per agent and per queue."""
    days = whole_number("days", 7, low=1, high=MAX_DAYS)
    figures = satisfaction.summary(utcnow() - timedelta(days=days))
    return jsonify({**figures, "since": timestamp(figures["since"])})


_FIGURES = {"answers": {"type": "integer"}, "average": {"type": ["number", "null"]},
            "satisfied": {"type": ["number", "null"], "description": "the share of 4s and 5s"}}
SCHEMAS["SatisfactionRating"] = {
    "type": ["object", "null"], "required": ["score", "comment", "created_at"],
    "properties": {"score": {"type": "integer", "minimum": 1, "maximum": 5}, "comment": {"type": "string"},
                   "agent_id": {"type": ["integer", "null"]}, "created_at": {"type": "string"}}}
PATHS["/api/v1/conversations/{conversation_id}/satisfaction"] = {"get": {
    "operationId": "get_conversation_satisfaction",
    "summary": "The customer's survey answer (null until given) and the survey link.",
    "parameters": [{"name": "conversation_id", "in": "path", "required": True, "schema": ID}],
    "responses": {"200": json_body({"type": "object", "required": ["rating", "survey_url"], "properties": {
        "rating": ref("SatisfactionRating"), "survey_url": {"type": "string"}}}, "The answer."),
        "401": ERROR, "404": ERROR}}}
PATHS["/api/v1/satisfaction"] = {"get": {
    "operationId": "satisfaction_summary", "summary": "Survey figures per agent and queue (supervisors).",
    "parameters": [whole_number_query("days", low=1, high=MAX_DAYS, description="the last days counted (7)")],
    "responses": {"200": json_body({"type": "object", "required": ["since", "answers", "agents", "queues"],
                                    "properties": {"since": {"type": "string"}, **_FIGURES, **{
                                        key: {"type": "array", "items": {"type": "object", "properties": {
                                            "id": {"type": "integer"}, **_FIGURES}}}
                                        for key in ("agents", "queues")}}}, "The figures."),
                  "400": ERROR, "401": ERROR, "403": ERROR}}}
