"""Agent assist over the API: a conversation's suggestions and known issues, what the agent did with each
suggestion, versions and acceptance."""

from flask import g, jsonify, request

from workspace.extensions import db
from workspace.jobs.enqueue import enqueue_suggestion_training
from workspace.models import Conversation
from workspace.services import audit
from workspace.services.assist import suggestions
from workspace.services.assist.drafts import draft_reply
from workspace.services.assist.known_issues import known_issues
from workspace.services.assist.summaries import serialize_summary, summary_of
from workspace.services.conversations.actions import ensure_visible
from workspace.web.api import bp
from workspace.web.api.openapi import ERROR, ID, PATHS, SCHEMAS, closed, json_body, ref
from workspace.web.auth import agent_required, role_required
from workspace.web.validation import json_object


def _conversation(conversation_id: int) -> Conversation:
    return ensure_visible(db.session.get(Conversation, conversation_id), g.agent)


@bp.get("/conversations/<int:conversation_id>/suggestions")
@agent_required
def list_suggestions(conversation_id: int):
    """Macros and past replies suggested for the conversation's newest post (marked shown); empty when the
    ranker abstained or has not run yet."""
    found = suggestions.current(_conversation(conversation_id), g.agent)
    return jsonify(data=[suggestions.serialize_suggestion(s) for s in found])


@bp.post("/conversations/<int:conversation_id>/draft")
@agent_required
def draft_conversation_reply(conversation_id: int):
    """A generated draft grounded in the conversation's suggestions, citing them, or an abstention; never sent."""
    return jsonify(draft_reply(_conversation(conversation_id), g.agent))


@bp.get("/conversations/<int:conversation_id>/summary")
@agent_required
def summarize_conversation(conversation_id: int):
    """An extractive summary of the thread: the customer's problem, what was tried, the last message."""
    return jsonify(serialize_summary(*summary_of(_conversation(conversation_id))))


@bp.get("/conversations/<int:conversation_id>/known-issues")
@agent_required
def list_known_issues(conversation_id: int):
    """Open incidents the conversation belongs to (or whose phrase its newest post matches), with answer macros."""
    return jsonify(data=known_issues(_conversation(conversation_id), g.agent))


@bp.post("/conversations/<int:conversation_id>/suggestions/<int:suggestion_id>/outcome")
@agent_required
def record_suggestion_outcome(conversation_id: int, suggestion_id: int):
    """Record what the agent did with a suggestion: inserted, sent, edited (then sent) or ignored."""
    suggestion = suggestions.find(suggestion_id, _conversation(conversation_id))
    outcome = request.get_json()["outcome"]  # one of RECORDABLE: the API document's check
    return jsonify(suggestions.serialize_suggestion(suggestions.record(suggestion, outcome, g.agent)))


@bp.get("/suggestions/versions")
@role_required("admin")
def list_suggestion_versions():
    """Every suggestion version, newest first: its gate decision and how agents used its suggestions."""
    return jsonify(data=suggestions.acceptance())


@bp.post("/suggestions/versions")
@role_required("admin")
def train_suggestion_version():
    """Train a suggestion version in a worker; it replaces the active one only through the gate unless forced."""
    force = json_object(optional=True).get("force", False)  # a boolean if there: the API document's check
    job_id = enqueue_suggestion_training(force)
    audit.record(g.agent, "suggestions.train_requested", "suggestion_version", None,
                 after={"job_id": job_id, "force": force})
    db.session.commit()
    return jsonify(job_id=job_id, force=force), 202


_RATE = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
_MEASURE = {"type": ["object", "null"], "properties": {"n": {"type": "integer"}, "first": _RATE, "top3": _RATE,
                                                        "mrr": _RATE}}
SCHEMAS["Suggestion"] = {
    "type": "object", "required": ["id", "kind", "rank", "confidence", "evidence", "outcome", "version_id", "source"],
    "properties": {
        "id": {"type": "integer"}, "kind": {"enum": ["macro", "reply", "article"]}, "rank": {"type": "integer"},
        "confidence": {"type": "number", "description": "the macro's probability, or the cosine similarity "
                                                        "of the posts"},
        "evidence": {"enum": ["learned", "text", "similar_post"],
                     "description": "learned from applied macros, the macro's own words (cold start), or a "
                                    "similar post's reply"},
        "outcome": {"enum": ["shown", "inserted", "sent", "edited", "ignored"]},
        "version_id": {"type": "integer"}, "message_id": {"type": "integer"},
        "source": {"type": "object", "description": "the macro (macro_id, name), the article (article_id, slug, "
                                                    "title, url, excerpt) or the past reply (message_id, "
                                                    "conversation_id, text)"}}}
SCHEMAS["SuggestionVersion"] = {
    "type": "object", "required": ["id", "active", "decision", "outcomes", "shown"],
    "properties": {
        "id": {"type": "integer"}, "active": {"type": "boolean"}, "decision": {"type": "string"},
        "metrics": {"type": "object", "properties": {"candidate": _MEASURE, "active": _MEASURE}},
        "training_size": {"type": "integer"}, "trained_at": {"type": ["string", "null"]},
        "outcomes": {"type": "object", "additionalProperties": {"type": "integer"}},
        "shown": {"type": "integer"}, "insert_rate": _RATE, "sent_rate": _RATE}}
_CONVERSATION = {"name": "conversation_id", "in": "path", "required": True, "schema": ID}
_FAIL = {"400": ERROR, "401": ERROR, "404": ERROR}
_ADMIN_FAIL = {"400": ERROR, "401": ERROR, "403": ERROR}
PATHS["/api/v1/conversations/{conversation_id}/suggestions"] = {"get": {
    "operationId": "list_suggestions",
    "summary": "Suggested macros, past replies and articles for the conversation's newest post.",
    "description": "Never sent by themselves: an agent inserts one into a reply and sends that.",
    "parameters": [_CONVERSATION],
    "responses": {"200": json_body({"type": "object", "required": ["data"], "properties": {
        "data": {"type": "array", "items": ref("Suggestion")}}},
        "The suggestions: macros, then replies, then articles."),
        **_FAIL}}}
PATHS["/api/v1/conversations/{conversation_id}/draft"] = {"post": {
    "operationId": "draft_conversation_reply",
    "summary": "A generated draft reply grounded in the suggested macros, articles and past replies, or none.",
    "description": ("Off (404 generator_off) unless SWITCHBOARD_GENERATOR_URL names an OpenAI-compatible endpoint; "
                    "503 generator_unavailable when it cannot be reached. The draft is returned, never sent."),
    "parameters": [_CONVERSATION],
    "responses": {"200": json_body({"type": "object", "required": ["draft", "abstained", "generated", "sources"],
                                    "properties": {"draft": {"type": ["string", "null"]},
                                                   "abstained": {"type": "boolean"},
                                                   "reason": {"type": ["string", "null"]},
                                                   "generated": {"const": True},
                                                   "sources": {"type": "array", "items": {"type": "object"}}}},
                                   "The draft (cites its sources as [n]) or why there is none."),
                  "503": ERROR, **_FAIL}}}
PATHS["/api/v1/conversations/{conversation_id}/summary"] = {"get": {
    "operationId": "summarize_conversation",
    "summary": "An extractive summary of the thread (sentences picked from it, the same every time, offline).",
    "parameters": [_CONVERSATION],
    "responses": {"200": json_body({"type": "object", "required": ["problem", "tried", "last", "messages"],
                                    "properties": {"problem": {"type": ["string", "null"]},
                                                   "tried": {"type": "array", "items": {"type": "string"}},
                                                   "last": {"type": ["string", "null"]},
                                                   "messages": {"type": "integer"}}}, "The summary."),
                  **_FAIL}}}
PATHS["/api/v1/conversations/{conversation_id}/known-issues"] = {"get": {
    "operationId": "list_known_issues",
    "summary": "Open incidents (known issues) of the conversation, each with the macro that answers it.",
    "parameters": [_CONVERSATION],
    "responses": {"200": json_body({"type": "object", "required": ["data"], "properties": {"data": {
        "type": "array", "items": {"type": "object", "required": ["id", "title", "member", "answer_macro"],
                                   "properties": {"id": {"type": "integer"}, "title": {"type": "string"},
                                                  "member": {"type": "boolean",
                                                             "description": "false: only its phrase matches"},
                                                  "answer_macro": {"type": ["object", "null"]}}}}}},
        "The known issues, newest first."), **_FAIL}}}
PATHS["/api/v1/conversations/{conversation_id}/suggestions/{suggestion_id}/outcome"] = {"post": {
    "operationId": "record_suggestion_outcome",
    "summary": "Record what the agent did with a suggestion.",
    "description": "shown → inserted → sent or edited; shown or inserted → ignored. Any other order is 409.",
    "parameters": [_CONVERSATION, {"name": "suggestion_id", "in": "path", "required": True, "schema": ID}],
    "requestBody": {"required": True, "content": {"application/json": {"schema": closed(
        {"outcome": {"enum": list(suggestions.RECORDABLE)}}, required=("outcome",))}}},
    "responses": {"200": json_body(ref("Suggestion"), "The suggestion."), "409": ERROR, **_FAIL}}}
PATHS["/api/v1/suggestions/versions"] = {
    "get": {"operationId": "list_suggestion_versions",
            "summary": "Suggestion versions with their gate decisions and acceptance rates (admins).",
            "responses": {"200": json_body({"type": "object", "required": ["data"], "properties": {
                "data": {"type": "array", "items": ref("SuggestionVersion")}}}, "The versions."), **_ADMIN_FAIL}},
    "post": {"operationId": "train_suggestion_version",
             "summary": "Train a suggestion version in a worker, through the promotion gate unless forced (admins).",
             "requestBody": {"content": {"application/json": {"schema": closed({"force": {"type": "boolean"}})}}},
             "responses": {"202": json_body({"type": "object", "required": ["job_id", "force"], "properties": {
                 "job_id": {"type": "string"}, "force": {"type": "boolean"}}}, "The training job."),
                 **_ADMIN_FAIL}}}
