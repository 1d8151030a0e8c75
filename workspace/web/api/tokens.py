"""API tokens: an agent's own (list, issue, revoke) and, for admins, any agent's."""

from flask import g, jsonify, request

from workspace.models import TOKEN_SCOPES, Agent, ApiToken
from workspace.services import admin, tokens
from workspace.web.api import bp
from workspace.web.api.openapi import ERROR, ID, NULLABLE_TIME, PATHS, SCHEMAS, TIME, json_body, list_of, ref, text
from workspace.web.auth import agent_required, role_required


def _issued(token: ApiToken, secret: str):
    return jsonify({**tokens.token_state(token), "token": secret}), 201


@bp.get("/tokens")
@agent_required
def list_own_tokens():
    """List your API tokens (revoked ones say when)."""
    return jsonify(data=[tokens.token_state(token) for token in tokens.list_tokens(g.agent)])


@bp.post("/tokens")
@agent_required
def issue_own_token():
    """Issue yourself a token (name, scopes, expires); its secret is in this answer only."""
    return _issued(*tokens.issue_token(g.agent, request.get_json(silent=True), g.agent, g.api_token))


@bp.delete("/tokens/<int:token_id>")
@agent_required
def revoke_own_token(token_id: int):
    """Revoke one of your tokens (anyone else's is not found here: admins use the agent's path)."""
    return jsonify(tokens.token_state(tokens.revoke_token(token_id, g.agent, owner=g.agent)))


@bp.get("/agents/<int:agent_id>/tokens")
@role_required("admin")
def list_agent_tokens(agent_id: int):
    """List an agent's API tokens (admins)."""
    return jsonify(data=[tokens.token_state(token) for token in tokens.list_tokens(admin.find(Agent, id=agent_id))])


@bp.post("/agents/<int:agent_id>/tokens")
@role_required("admin")
def issue_agent_token(agent_id: int):
    """Issue a token for an agent (admins), e.g. an integration's own agent; never beyond that agent's rights."""
    agent = admin.find(Agent, id=agent_id)
    return _issued(*tokens.issue_token(agent, request.get_json(silent=True), g.agent, g.api_token))


@bp.delete("/agents/<int:agent_id>/tokens/<int:token_id>")
@role_required("admin")
def revoke_agent_token(agent_id: int, token_id: int):
    """Revoke an agent's token (admins)."""
    return jsonify(tokens.token_state(tokens.revoke_token(token_id, g.agent, owner=admin.find(Agent, id=agent_id))))


SCHEMAS["ApiToken"] = {
    "type": "object", "required": ["id", "agent_id", "name", "scopes", "created_at", "expires_at", "last_used_at",
                                   "revoked_at"],
    "properties": {
        "id": {"type": "integer"}, "agent_id": {"type": "integer"}, "name": {"type": "string"},
        "scopes": {"type": "array", "items": {"enum": list(TOKEN_SCOPES)}},
        "created_at": TIME, "expires_at": NULLABLE_TIME,
        "last_used_at": {**NULLABLE_TIME, "description": "kept to the minute"},
        "revoked_at": NULLABLE_TIME}}
SCHEMAS["IssuedApiToken"] = {"allOf": [ref("ApiToken"), {
    "type": "object", "required": ["token"],
    "properties": {"token": {"type": "string", "description": "the secret: shown in this answer only"}}}]}
_ISSUE_BODY = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["name"], "additionalProperties": False, "properties": {
        "name": text(tokens.MAX_NAME),
        "scopes": {"type": "array", "minItems": 1, "items": {"enum": list(TOKEN_SCOPES)},
                   "description": ("read: GET the API and live sockets; write: agent actions; admin: admin "
                                   "endpoints and /metrics; webhooks: read channels and change their settings or "
                                   "secret. admin and webhooks only on admins' tokens, and a token issues no "
                                   "scope it lacks. Default: all the agent (and calling token) may have.")},
        "expires": {"type": ["string", "null"], "maxLength": 40, "pattern": tokens.EXPIRES_PATTERN,
                    "x-pattern": '"30d", "12h" or an ISO 8601 date or date-time',
                    "description": '"30d", "12h", or an ISO 8601 date or date-time, at most 5 years on; null: never'},
    }}}}}
_TOKEN_ID = {"name": "token_id", "in": "path", "required": True, "schema": ID}
_AGENT_ID = {"name": "agent_id", "in": "path", "required": True, "schema": ID}
_ISSUED = json_body(ref("IssuedApiToken"), "Issued; the secret is shown once.")
_REVOKED = json_body(ref("ApiToken"), "Revoked (revoking again changes nothing).")
_DENIED = {"401": ERROR, "403": ERROR}

PATHS["/api/v1/tokens"] = {
    "get": {"operationId": "list_own_tokens", "summary": "Your API tokens, never their secrets.",
            "responses": {"200": list_of("ApiToken"), **_DENIED}},
    "post": {"operationId": "issue_own_token", "summary": "Issue yourself an API token.",
             "requestBody": _ISSUE_BODY, "responses": {"201": _ISSUED, "400": ERROR, **_DENIED}}}
PATHS["/api/v1/tokens/{token_id}"] = {"delete": {
    "operationId": "revoke_own_token", "summary": "Revoke one of your tokens.",
    "parameters": [_TOKEN_ID], "responses": {"200": _REVOKED, **_DENIED, "404": ERROR}}}
PATHS["/api/v1/agents/{agent_id}/tokens"] = {
    "get": {"operationId": "list_agent_tokens", "summary": "An agent's API tokens (admins).",
            "parameters": [_AGENT_ID], "responses": {"200": list_of("ApiToken"), **_DENIED, "404": ERROR}},
    "post": {"operationId": "issue_agent_token", "summary": "Issue an API token for an agent (admins).",
             "parameters": [_AGENT_ID], "requestBody": _ISSUE_BODY,
             "responses": {"201": _ISSUED, "400": ERROR, **_DENIED, "404": ERROR}}}
PATHS["/api/v1/agents/{agent_id}/tokens/{token_id}"] = {"delete": {
    "operationId": "revoke_agent_token", "summary": "Revoke an agent's token (admins).",
    "parameters": [_AGENT_ID, _TOKEN_ID], "responses": {"200": _REVOKED, **_DENIED, "404": ERROR}}}
