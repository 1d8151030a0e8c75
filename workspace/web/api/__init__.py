"""The REST API under /api/v1: JSON, token auth, cursor pagination."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from workspace.web.api import openapi  # noqa: E402,F401,I001  (first: the other modules add to its document)
from workspace.web.api import admin, authors, classifier, conversations, queues, replay, rules  # noqa: E402,F401  (routes register on bp)
from workspace.web.api import escalations  # noqa: E402,F401
from workspace.web.api import bulk, macros  # noqa: E402,F401
from workspace.web.api import sla  # noqa: E402,F401
from workspace.web.api import tokens  # noqa: E402,F401
from workspace.web.api import dashboard, incidents, quality  # noqa: E402,F401  (supervision routes register on bp)
from workspace.web.api import two_factor  # noqa: E402,F401
from workspace.web.api import attachments, email, suspended_mail  # noqa: E402,F401
from workspace.web.api import merges, people, privacy  # noqa: E402,F401
from workspace.web.api import notifications  # noqa: E402,F401
from workspace.web.api import articles, assist  # noqa: E402,F401
from workspace.web.api import automations  # noqa: E402,F401
from workspace.web.api import subscriptions  # noqa: E402,F401
from workspace.web.api import satisfaction  # noqa: E402,F401
from workspace.web.api import priority_weights  # noqa: E402,F401
from workspace.web.api import alerts, audit  # noqa: E402,F401
from workspace.web.api import views  # noqa: E402,F401
