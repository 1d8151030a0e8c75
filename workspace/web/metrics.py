"""GET /metrics: the Prometheus exposition, for a scraper holding the metrics token or an admin's API token
with the admin scope."""

import hmac

from flask import Blueprint, Response, current_app, request
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4

from workspace.errors import Forbidden, Unauthorized
from workspace.models import has_role
from workspace.observability import scrape
from workspace.web.auth import token_for_secret

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
    try:
        api_token = token_for_secret(token)
    except Unauthorized:
        raise Unauthorized("the token is neither the metrics token nor a live API token", code="invalid_token")
    if not has_role(api_token.agent, "admin"):
        raise Forbidden("only the metrics token or an admin's API token may read /metrics")
    if "admin" not in api_token.scope_set:
        raise Forbidden("this API token lacks the admin scope", code="insufficient_scope")


@bp.get("/metrics")
def read_metrics():
    """Render every process's counters and histograms and the live figures, in Prometheus text format."""
    require_scraper()
    # The classic text format every Prometheus reads (our names need none of 1.0.0's escaping).
    return Response(scrape.render(), headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4, "Cache-Control": "no-store"})
