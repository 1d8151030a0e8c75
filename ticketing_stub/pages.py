"""The stub's pages: the tickets, one ticket with its comments, and a form to change a ticket's status.

There is no sign-in (the stub listens on localhost for demos and tests); the
status form is protected from cross-site posts by a double-submit token in a
SameSite=Strict cookie. Everything shown is escaped by Jinja's autoescaping.
"""

import hmac
import json
import secrets

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for

from ticketing_stub.api import MAX_PAGE, STATUSES, store
from ticketing_stub.notify import status_changed

bp = Blueprint("stub_pages", __name__, template_folder="templates")

CSRF_COOKIE = "tickets_csrf"
PAGE_SIZE = 50
# Who changes a status on the page, as the audit records it.
PAGE_AGENT = {"name": "Ticketing agent", "email": "agent@tickets.invalid"}


@bp.get("/")
def home():
    """The ticket list is the home page."""
    return redirect(url_for("stub_pages.list_tickets"))


@bp.get("/healthz")
def healthz():
    """Liveness, for process managers and tests (the same path Switchboard answers on)."""
    store().page(offset=0, limit=1)
    return {"status": "ok"}


@bp.get("/agent/tickets")
def list_tickets():
    """Every ticket, newest first, each with its status form."""
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) <= MAX_PAGE else 1
    _, count = store().page(offset=0, limit=1)
    # Newest first: read the page counted from the end of the id order.
    offset = max(count - page * PAGE_SIZE, 0)
    limit = max(min(PAGE_SIZE, count - (page - 1) * PAGE_SIZE), 0)
    rows, _ = store().page(offset=offset, limit=limit)
    tickets = [dict(row, tags=json.loads(row["tags"])) for row in reversed(rows)]
    return _page("tickets.html", tickets=tickets, page=page, more=page * PAGE_SIZE < count, count=count)


@bp.get("/agent/tickets/<int:ticket_id>")
def show_ticket(ticket_id: int):
    """One ticket: its fields, its comments and its status form (Zendesk's agent URL for a ticket)."""
    ticket = store().get(ticket_id) or abort(404)
    return _page("ticket.html", ticket=dict(ticket, tags=json.loads(ticket["tags"])),
                 comments=store().comments(ticket_id))


@bp.post("/agent/tickets/<int:ticket_id>/status")
def change_status(ticket_id: int):
    """Set a ticket's status from the form; the change is sent to Switchboard by signed webhook."""
    cookie, sent = request.cookies.get(CSRF_COOKIE, ""), request.form.get("csrf_token", "")
    if not cookie or not hmac.compare_digest(cookie.encode(), sent.encode()):
        abort(400, "The form expired or came from another site: reload the page and try again.")
    ticket = store().get(ticket_id) or abort(404)
    status = request.form.get("status", "")
    if status not in STATUSES or status == "new" or ticket["status"] == "closed":
        abort(400, "That status cannot be set here (closed tickets cannot change; new is only for fresh tickets).")
    text = request.form.get("comment", "").strip()
    comment = {"body": text, "public": True} if text else None
    if status != ticket["status"] or comment:
        after, _, before = store().update(ticket_id, {"status": status}, comment, PAGE_AGENT)
        if after["status"] != before:
            status_changed(current_app._get_current_object(), after, before)
    back = request.form.get("back")
    return redirect(url_for("stub_pages.show_ticket", ticket_id=ticket_id) if back == "ticket"
                    else url_for("stub_pages.list_tickets"), code=303)


def _page(template: str, **context):
    """Render a page with the CSRF token its forms carry, setting the cookie it is checked against."""
    g.csrf_token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = current_app.make_response(render_template(f"stub/{template}", csrf_token=g.csrf_token,
                                                         statuses=[s for s in STATUSES if s != "new"], **context))
    response.set_cookie(CSRF_COOKIE, g.csrf_token, httponly=True, samesite="Strict")
    response.headers["Content-Security-Policy"] = "default-src 'self'; style-src 'self' 'unsafe-inline'"
    return response
