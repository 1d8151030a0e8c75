"""Admins turn an agent's second factor off (a lost phone); the agent sets it up again from their security page."""

from flask import g

from workspace.models import Agent
from workspace.services import admin
from workspace.services.signin import two_factor
from workspace.web.api import bp
from workspace.web.api.openapi import ERROR, PATHS
from workspace.web.auth import role_required


@bp.delete("/agents/<int:agent_id>/two-factor")
@role_required("admin")
def reset_two_factor(agent_id: int):
    """Turn off an agent's two-factor sign-in and spend their recovery codes (audited)."""
    two_factor.reset(g.agent, admin.find(Agent, id=agent_id))
    return "", 204


PATHS["/api/v1/agents/{agent_id}/two-factor"] = {"delete": {
    "operationId": "reset_two_factor", "summary": "Turn off an agent's two-factor sign-in (admins; audited).",
    "parameters": [{"name": "agent_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
    "responses": {"204": {"description": "Two-factor sign-in is off; the agent may set it up again."},
                  "401": ERROR, "403": ERROR, "404": ERROR}}}
