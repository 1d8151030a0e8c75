"""Page shells for supervisors (their scripts use the API) and the server-rendered weekly report."""

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from workspace.services.supervision import quality, reports
from workspace.web.auth import has_role

bp = Blueprint("dashboard", __name__)


def _supervisors_only() -> None:
    """Supervisors and admins only; an agent gets a 403 page."""
    if not has_role(current_user, "supervisor"):
        abort(403)


@bp.get("/dashboard")
@login_required
def dashboard_page():
    """The live dashboard (queues, volume, reply times, agents, sentiment, incidents)."""
    _supervisors_only()
    return render_template("dashboard.html", agent=current_user)


@bp.get("/qa")
@login_required
def qa_page():
    """Quality review: sample replies, score them, and each agent's averages over time."""
    _supervisors_only()
    return render_template("qa.html", agent=current_user)


@bp.get("/reviews")
@login_required
def my_reviews():
    """The quality reviews of the signed-in person's own replies (supervisors too)."""
    reviews = quality.list_reviews(current_user, current_user.id)
    return render_template("reviews.html", agent=current_user, reviews=reviews)


@bp.get("/reports/weekly")
@login_required
def weekly_report():
    """The printable weekly report for `week=YYYY-Www` (by default the last complete week, or this one if the
    last had no posts)."""
    _supervisors_only()
    week = request.args.get("week")
    start = reports.parse_week(week) if week else reports.default_week()
    return render_template("report_weekly.html", agent=current_user, report=reports.weekly_report(start))
