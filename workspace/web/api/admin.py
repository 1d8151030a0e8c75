"""Admin endpoints: agents, queues and channels (supervisors may read the agent list)."""

import sqlalchemy as sa
from flask import g, jsonify, request

from workspace.channels.registry import DEFAULT_REPLY_LIMIT as MAX_REPLY_CHARS
from workspace.channels.registry import KINDS, setting_names
from workspace.channels.settings import MAX_RATE, MAX_URL, WRITE_ONLY, visible_settings
from workspace.extensions import db
from workspace.models import ROLES, STRATEGIES, Agent, Channel, Queue
from workspace.models.counts import queue_counts
from workspace.serializers import serialize_agent, serialize_channel, serialize_queue
from workspace.services import acknowledgements, admin
from workspace.web.api import bp
from workspace.web.api.openapi import ERROR, ID, PATHS, SCHEMAS, SLUG, closed, json_body, list_of, ref, text
from workspace.web.auth import role_required


def agent_view(agent: Agent) -> dict:
    """An agent as admins see it: role, activation and queues."""
    return {**serialize_agent(agent), "active": agent.active, "queues": sorted(q.slug for q in agent.queues),
            "capacity": agent.capacity, "two_factor": agent.totp_enabled_at is not None}


def channel_view(channel: Channel) -> dict:
    """A channel as admins see it, with the secret senders sign with and its settings (write-only ones hidden)."""
    return {**serialize_channel(channel), "secret": channel.secret, "webhook_path": f"/webhooks/{channel.slug}",
            "acknowledgement": acknowledgements.describe(channel),
            "settings": visible_settings(channel.settings), "setting_names": setting_names(channel.kind),
            "write_only_settings": sorted(WRITE_ONLY & set(setting_names(channel.kind)))}


@bp.get("/agents")
@role_required("supervisor")
def list_agents():
    """List agents with their roles and queues."""
    agents = db.session.scalars(sa.select(Agent).order_by(Agent.name)).all()
    return jsonify(data=[agent_view(agent) for agent in agents])


@bp.post("/agents")
@role_required("admin")
def create_agent():
    """Create an agent (email, name, role, password, queues)."""
    return jsonify(agent_view(admin.save_agent(None, request.get_json(silent=True), g.agent))), 201


@bp.patch("/agents/<int:agent_id>")
@role_required("admin")
def update_agent(agent_id: int):
    """Change an agent; a new role, password or deactivation signs them out everywhere."""
    agent = admin.find(Agent, id=agent_id)
    return jsonify(agent_view(admin.save_agent(agent, request.get_json(silent=True), g.agent)))


@bp.post("/queues")
@role_required("admin")
def create_queue():
    """Create a queue (slug, name, description, SLA minutes per level, routing threshold)."""
    return jsonify(_queue_view(admin.save_queue(None, request.get_json(silent=True), g.agent))), 201


@bp.patch("/queues/<slug>")
@role_required("admin")
def update_queue(slug: str):
    """Change a queue's name, description, SLA targets or routing threshold."""
    queue = admin.find(Queue, slug=slug)
    return jsonify(_queue_view(admin.save_queue(queue, request.get_json(silent=True), g.agent)))


def _queue_view(queue: Queue) -> dict:
    return serialize_queue(queue, queue_counts([queue.id])[queue.id])


# An integration's token (the webhooks scope) reads channels and changes their settings or secret; no more.
INTEGRATION = ("admin", "webhooks")


@bp.get("/channels")
@role_required("admin", scopes=INTEGRATION)
def list_channels():
    """List channels with their webhook paths and secrets."""
    return jsonify(data=[channel_view(c) for c in db.session.scalars(sa.select(Channel).order_by(Channel.slug))])


@bp.post("/channels")
@role_required("admin")
def create_channel():
    """Create a channel; its secret is generated."""
    return jsonify(channel_view(admin.save_channel(None, request.get_json(silent=True), g.agent))), 201


@bp.patch("/channels/<slug>")
@role_required("admin", scopes=INTEGRATION)
def update_channel(slug: str):
    """Rename, enable/disable, change the settings of, or rotate the secret of a channel."""
    channel = admin.find(Channel, slug=slug)
    return jsonify(channel_view(admin.save_channel(channel, request.get_json(silent=True), g.agent)))


_ACKNOWLEDGEMENT = {
    "type": ["object", "null"], "additionalProperties": False,
    "description": "the automatic first reply to each new conversation (off by default); null turns it off",
    "properties": {"enabled": {"type": "boolean"},
                   "in_hours": {"type": "string", "maxLength": MAX_REPLY_CHARS,
                                "description": "sent while the queue's calendar is open (required when enabled)"},
                   "out_of_hours": {"type": "string", "maxLength": MAX_REPLY_CHARS,
                                    "description": "sent outside business hours (empty: the in-hours text)"}}}
SCHEMAS["AgentAdmin"] = {"allOf": [ref("Agent"), {"type": "object", "required": ["active", "queues"], "properties": {
    "active": {"type": "boolean"}, "queues": {"type": "array", "items": {"type": "string"}},
    "capacity": {"type": "integer"},
    "two_factor": {"type": "boolean", "description": "Signing in asks for a TOTP code."}}}]}
SCHEMAS["ChannelAdmin"] = {"type": "object", "required": ["id", "slug", "name", "kind", "enabled", "secret"],
                           "properties": {"id": {"type": "integer"}, "slug": {"type": "string"},
                                          "name": {"type": "string"}, "kind": {"type": "string"},
                                          "enabled": {"type": "boolean"}, "secret": {"type": "string"},
                                          "webhook_path": {"type": "string"},
                                          "settings": {"type": "object", "description": (
                                              "per kind: callback_url; Discourse base_url, api_username, "
                                              "api_key; X user_id, consumer_secret; every kind rate_limit ("
                                              "signed deliveries a second, default 300). Write-only ones show "
                                              "as <name>_set")},
                                          "setting_names": {"type": "array", "items": {"type": "string"}},
                                          "acknowledgement": _ACKNOWLEDGEMENT,
                                          "write_only_settings": {"type": "array", "items": {"type": "string"}}}}
_ADMIN = {"400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR, "409": ERROR}
_AGENT_FIELDS = {
    "email": {**text(254), "pattern": "^\\s*[^@\\s\\x00]+@[^@\\s\\x00]+\\.[^@\\s\\x00]+\\s*$"},
    "name": text(120), "role": {"enum": list(ROLES)},
    "password": {"type": "string", "minLength": 10, "maxLength": 1000},
    "active": {"type": "boolean"},
    "queues": {"type": "array", "items": {"type": "string"}, "maxItems": 1000,
               "description": "queue slugs; one that names no queue is a 404"},
    "capacity": {"type": "integer", "minimum": 0, "maximum": admin.MAX_CAPACITY}}
_QUEUE_FIELDS = {
    "slug": SLUG, "name": text(120), "description": text(2000, blank=True),
    "signature": {**text(admin.MAX_SIGNATURE, blank=True),
                  "description": "appended to email replies sent from the queue (text; escaped in their HTML)"},
    "sla_minutes": {"type": ["object", "null"], "additionalProperties": False, "properties": {
        level: {"type": "integer", "minimum": 1, "maximum": 525_600} for level in admin.LEVELS}},
    "routing_threshold": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
    "assignment": {"enum": list(STRATEGIES)},
    "lead_id": {**ID, "type": ["integer", "null"],
                "description": "the queue's lead (a supervisor or admin), whom automations can assign to"}}
_SETTING = {"type": ["string", "integer", "boolean", "null"], "maxLength": MAX_URL, "minimum": 1, "maximum": MAX_RATE,
            "description": "a setting of the channel's kind (setting_names), a number for rate_limit; null or "
                           "empty removes it"}
_CHANNEL_FIELDS = {
    "slug": SLUG, "name": text(120), "kind": {"enum": list(KINDS)}, "enabled": {"type": "boolean"},
    "rotate_secret": {"type": "boolean"}, "acknowledgement": _ACKNOWLEDGEMENT,
    "settings": {"type": "object", "maxProperties": 20, "additionalProperties": _SETTING, "description": (
        "every kind: rate_limit (signed deliveries a second); per kind: callback_url; Discourse base_url, "
        "api_username, api_key; X user_id, consumer_secret; email address, smtp_host, smtp_port, smtp_username, "
        "smtp_password, smtp_starttls")}}


def _body(fields: dict, names: tuple, required: tuple = ()) -> dict:
    return {"required": True, "content": {"application/json": {"schema": closed(
        {name: fields[name] for name in names}, required=required)}}}


def _path(name: str, kind: str = "string") -> list:
    return [{"name": name, "in": "path", "required": True, "schema": ID if kind == "integer" else {"type": kind}}]


PATHS["/api/v1/agents"] = {
    "get": {"operationId": "list_agents", "summary": "Agents with roles and queues (supervisors).",
            "responses": {"200": list_of("AgentAdmin"), "401": ERROR, "403": ERROR}},
    "post": {"operationId": "create_agent", "summary": "Create an agent (admins).",
             "requestBody": _body(_AGENT_FIELDS, admin.AGENT_FIELDS, ("email", "name")),
             "responses": {"201": json_body(ref("AgentAdmin"), "Created."), **_ADMIN}}}
PATHS["/api/v1/agents/{agent_id}"] = {"patch": {
    "operationId": "update_agent", "summary": "Change an agent (admins).", "parameters": _path("agent_id", "integer"),
    "requestBody": _body(_AGENT_FIELDS, admin.AGENT_FIELDS),
    "responses": {"200": json_body(ref("AgentAdmin"), "Changed."), **_ADMIN}}}
PATHS["/api/v1/queues"]["post"] = {
    "operationId": "create_queue", "summary": "Create a queue (admins).",
    "requestBody": _body(_QUEUE_FIELDS, admin.QUEUE_FIELDS, ("slug",)),
    "responses": {"201": json_body(ref("Queue"), "Created."), **_ADMIN}}
PATHS["/api/v1/queues/{slug}"] = {"patch": {
    "operationId": "update_queue", "summary": "Change a queue (admins).", "parameters": _path("slug"),
    "requestBody": _body(_QUEUE_FIELDS, admin.QUEUE_FIELDS[1:]),
    "responses": {"200": json_body(ref("Queue"), "Changed."), **_ADMIN}}}
PATHS["/api/v1/channels"] = {
    "get": {"operationId": "list_channels", "summary": "Channels with secrets (admins).",
            "responses": {"200": list_of("ChannelAdmin"), "401": ERROR, "403": ERROR}},
    "post": {"operationId": "create_channel", "summary": "Create a channel (admins).",
             "requestBody": _body(_CHANNEL_FIELDS, admin.CHANNEL_FIELDS, ("slug",)),
             "responses": {"201": json_body(ref("ChannelAdmin"), "Created."), **_ADMIN}}}
PATHS["/api/v1/channels/{slug}"] = {"patch": {
    "operationId": "update_channel", "summary": "Rename, enable/disable or rotate the secret (admins).",
    "parameters": _path("slug"), "requestBody": _body(_CHANNEL_FIELDS, admin.CHANNEL_CHANGES),
    "responses": {"200": json_body(ref("ChannelAdmin"), "Changed."), **_ADMIN}}}
