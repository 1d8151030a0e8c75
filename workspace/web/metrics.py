"""GET /metrics: the Prometheus exposition, for a scraper holding the metrics token or an admin's API token."""

import hmac

from flask import Blueprint, Response, current_app, request
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4

from workspace.errors import Forbidden, Unauthorized
from workspace.models import has_role
from workspace.observability import scrape
from workspace.web.auth import agent_for_token

bp = Blueprint("metrics", __name__)


def require_scraper() -> None:
    """Let through SWITCHBOARD_METRICS_TOKEN or an admin's API token; 401 otherwise (403 for a non-admin's)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("send the metrics token as 'Authorization: Bearer <token>'")
    expected = current_app.config.get("METRICS_TOKEN")
    if expected and hmac.compare_digest(token.encode(), expected.encode()):
        return
    agent = agent_for_token(token)
    if agent is None:
        raise Unauthorized("the token is neither the metrics token nor an API token", code="invalid_token")
    if not has_role(agent, "admin"):
        raise Forbidden("only the metrics token or an admin's API token may read /metrics")


@bp.get("/metrics")
def read_metrics():
    """Render every process's counters and histograms and the live figures, in Prometheus text format."""
    require_scraper()
    # The classic text format every Prometheus reads (our names need none of 1.0.0's escaping).
    return Response(scrape.render(), headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4, "Cache-Control": "no-store"})
