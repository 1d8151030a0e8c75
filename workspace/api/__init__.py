"""The REST API under /api/v1: JSON, token auth, cursor pagination."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import authors, conversations, openapi, queues  # noqa: E402,F401  (routes register on bp)
