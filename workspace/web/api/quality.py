"""Quality review over the API: sample replies, score them, read reviews and each agent's averages."""

from flask import g, jsonify, request

from workspace.models import SCORES
from workspace.serializers import serialize_agent, serialize_message, serialize_review
from workspace.services.supervision import quality
from workspace.web.api import bp
from workspace.web.api.openapi import ERROR, ID, PATHS, SCHEMAS, closed, json_body, ref, text, whole_number_query
from workspace.web.auth import agent_required, role_required
from workspace.web.validation import whole_number


@bp.get("/qa/sample")
@role_required("supervisor")
def sample_replies():
    """Unreviewed agent replies drawn at random (mode: random, agent, queue or negative)."""
    replies = quality.sample(request.args.get("mode", "random"), agent_id=whole_number("agent_id"),
                             queue=request.args.get("queue") or None, limit=whole_number("limit", 10))
    return jsonify(data=[{**serialize_message(m), "conversation_id": m.conversation_id,
                          "queue": m.conversation.queue.slug if m.conversation.queue else None,
                          "sentiment": (m.conversation.explanation or {}).get("sentiment"),
                          "agent": serialize_agent(m.agent)} for m in replies])


@bp.post("/qa/reviews")
@role_required("supervisor")
def create_review():
    """Score a reply: accuracy, tone and resolution (1-5) and a comment."""
    return jsonify(serialize_review(quality.review(request.get_json(silent=True), g.agent))), 201


@bp.get("/qa/reviews")
@agent_required
def list_reviews():
    """Reviews newest first: agents get their own; supervisors anyone's (`agent_id` to pick one)."""
    return jsonify(data=[serialize_review(r) for r in quality.list_reviews(g.agent, whole_number("agent_id"))])


@bp.patch("/qa/reviews/<int:review_id>")
@role_required("supervisor")
def update_review(review_id: int):
    """Change a review's scores or comment."""
    entry = quality.find(review_id, g.agent)
    return jsonify(serialize_review(quality.update_review(entry, request.get_json(silent=True), g.agent)))


@bp.get("/qa/averages")
@role_required("supervisor")
def review_averages():
    """Each agent's average scores per week over the last `weeks` weeks (12 by default)."""
    return jsonify(data=quality.averages(whole_number("weeks", 12)))


SCHEMAS["Review"] = {
    "type": "object",
    "required": ["id", "message_id", "conversation_id", "agent", "reviewer", "accuracy", "tone", "resolution",
                 "comment", "reply", "created_at"],
    "properties": {"id": {"type": "integer"}, "message_id": {"type": "integer"},
                   "conversation_id": {"type": "integer"}, "agent": ref("Agent"), "reviewer": ref("Agent"),
                   **{name: {"type": "integer", "minimum": 1, "maximum": 5} for name in ("accuracy", "tone",
                                                                                        "resolution")},
                   "comment": {"type": "string"}, "reply": {"type": "string"}, "created_at": {"type": "string"},
                   "updated_at": {"type": "string"}}}
_SCORE_FIELDS = {"comment": text(quality.MAX_COMMENT_CHARS, blank=True),
                 **{name: {"type": "integer", "minimum": 1, "maximum": 5} for name in SCORES}}
_SCORES = closed(_SCORE_FIELDS)
_NEW_REVIEW = closed({"message_id": {**ID, "description": "an agent's reply (404 for any other message)"},
                     **_SCORE_FIELDS}, required=("message_id", *SCORES))
_FAIL = {"400": ERROR, "401": ERROR, "403": ERROR}


def _list(schema: dict, what: str) -> dict:
    return json_body({"type": "object", "required": ["data"], "properties": {
        "data": {"type": "array", "items": schema}}}, what)


PATHS["/api/v1/qa/sample"] = {"get": {
    "operationId": "sample_replies", "summary": "Unreviewed agent replies at random (supervisors).",
    "parameters": [{"name": "mode", "in": "query", "schema": {"enum": list(quality.SAMPLE_MODES)}},
                   whole_number_query("agent_id"),
                   {"name": "queue", "in": "query", "allowEmptyValue": True, "schema": {"type": "string"}},
                   whole_number_query("limit", low=1, high=50)],
    "responses": {"200": _list(ref("Message"), "The sampled replies."), **_FAIL, "404": ERROR}}}
PATHS["/api/v1/qa/reviews"] = {
    "get": {"operationId": "list_reviews", "summary": "Reviews: your own as an agent; anyone's as a supervisor.",
            "parameters": [whole_number_query("agent_id")],
            "responses": {"200": _list(ref("Review"), "The reviews."), **_FAIL}},
    "post": {"operationId": "create_review", "summary": "Score a reply (supervisors).",
             "requestBody": {"required": True, "content": {"application/json": {"schema": _NEW_REVIEW}}},
             "responses": {"201": json_body(ref("Review"), "The review."), **_FAIL, "404": ERROR, "409": ERROR}}}
PATHS["/api/v1/qa/reviews/{review_id}"] = {"patch": {
    "operationId": "update_review", "summary": "Change a review (supervisors).",
    "parameters": [{"name": "review_id", "in": "path", "required": True, "schema": ID}],
    "requestBody": {"required": True, "content": {"application/json": {"schema": _SCORES}}},
    "responses": {"200": json_body(ref("Review"), "The review."), **_FAIL, "404": ERROR}}}
PATHS["/api/v1/qa/averages"] = {"get": {
    "operationId": "review_averages", "summary": "Each agent's average scores per week (supervisors).",
    "parameters": [whole_number_query("weeks", low=1, high=52)],
    "responses": {"200": _list({"type": "object"}, "Per agent, per week."), **_FAIL}}}
