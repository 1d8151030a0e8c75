"""The stub's Zendesk Tickets API subset: create, show, update, list (with external_id), Zendesk's answers.

Search (`/api/v2/search.json`) lives in `ticketing_stub.search`, on the same blueprint.
"""

import base64
import hmac
import json
import re
from urllib.parse import urlencode

from flask import Blueprint, current_app, jsonify, request

from ticketing_stub.notify import status_changed

bp = Blueprint("stub_api", __name__, url_prefix="/api/v2")

STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
PRIORITIES = ("urgent", "high", "normal", "low")
TYPES = ("problem", "incident", "question", "task")
MAX_PER_PAGE = 100
# Far past any real list, and small enough for SQLite's OFFSET.
MAX_PAGE = 10**6
MAX_SUBJECT = 255
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ApiError(Exception):
    """An answer in Zendesk's error shape: {"error", "description"[, "details"]} with a status."""

    def __init__(self, status: int, error: str, description: str, details: dict | None = None):
        super().__init__(description)
        self.status, self.error, self.description, self.details = status, error, description, details


def invalid(details: dict) -> ApiError:
    """Zendesk's 422: each field with what is wrong with it."""
    return ApiError(422, "RecordInvalid", "Record validation errors", details)


def field_error(field: str, message: str, error: str = "InvalidValue") -> dict:
    """One entry of a 422's details."""
    return {field: [{"description": f"{field.replace('_', ' ').capitalize()}: {message}", "error": error}]}


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    """Answer in Zendesk's error shape."""
    body = {"error": error.error, "description": error.description}
    if error.details is not None:
        body["details"] = error.details
    return jsonify(body), error.status


@bp.before_request
def authenticate():
    """Zendesk's auth: basic `email/token:TOKEN`, or the token as an OAuth bearer; 401 otherwise."""
    config = current_app.config
    email, token = config["TICKETS_API_EMAIL"], config["TICKETS_API_TOKEN"]
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer":
        given = credentials.strip().encode()
        expected = token.encode()
    elif token and email and scheme.lower() == "basic":
        try:
            given = base64.b64decode(credentials.strip(), validate=True)
        except ValueError:
            given = b""
        expected = f"{email}/token:{token}".encode()
    else:
        given, expected = b"", b"\0"
    if not hmac.compare_digest(given, expected):
        raise ApiError(401, "Couldn't authenticate you", "Couldn't authenticate you")


@bp.post("/tickets.json")
def create_ticket():
    """Create a ticket from {"ticket": {...}}; 201 with the ticket and the audit of its creation."""
    body = _ticket_body()
    fields = _fields(body, creating=True)
    comment = _comment(body.get("comment"))
    if comment is None:  # Zendesk takes `description` as the first comment when no comment is given
        description = body.get("description")
        if not isinstance(description, str) or not description.strip():
            raise invalid(field_error("description", "cannot be blank", "BlankValue"))
        comment = {"body": description, "public": True}
    ticket, audit = store().create(fields, comment, _requester(body), _api_user())
    response = jsonify(ticket=present(ticket), audit=audit)
    response.headers["Location"] = _ticket_url(ticket["id"])
    return response, 201


@bp.get("/tickets/<int:ticket_id>.json")
def show_ticket(ticket_id: int):
    """One ticket, or 404 RecordNotFound."""
    return jsonify(ticket=present(_existing(ticket_id)))


@bp.put("/tickets/<int:ticket_id>.json")
def update_ticket(ticket_id: int):
    """Change status, priority, subject, type or tags and/or add a comment; a closed ticket refuses changes."""
    before = _existing(ticket_id)
    body = _ticket_body()
    if before["status"] == "closed":
        raise invalid(field_error("status", "closed prevents ticket update", "ClosedPreventsUpdate"))
    fields = _fields(body, creating=False)
    if fields.get("status") == "new" and before["status"] != "new":
        raise invalid(field_error("status", "new is not valid for a ticket that was worked on"))
    ticket, audit, old_status = store().update(ticket_id, fields, _comment(body.get("comment")), _api_user())
    if ticket["status"] != old_status:
        status_changed(current_app._get_current_object(), ticket, old_status)
    return jsonify(ticket=present(ticket), audit=audit)


@bp.get("/tickets.json")
def list_tickets():
    """Tickets in id order, a page at a time (`page`, `per_page` ≤ 100), optionally by `external_id`."""
    page, per_page = positive_number("page", 1), positive_number("per_page", MAX_PER_PAGE)
    if per_page > MAX_PER_PAGE:
        raise ApiError(400, "InvalidPaginationParameter", f"per_page must be at most {MAX_PER_PAGE}")
    external_id = request.args.get("external_id")
    rows, count = store().page(offset=(page - 1) * per_page, limit=per_page, external_id=external_id)

    def link(number: int) -> str:
        query = {"page": number, "per_page": per_page, **({"external_id": external_id} if external_id else {})}
        return f"{request.host_url.rstrip('/')}{request.path}?{urlencode(query)}"

    return jsonify(tickets=[present(row) for row in rows], count=count,
                   next_page=link(page + 1) if page * per_page < count else None,
                   previous_page=link(page - 1) if page > 1 else None)


def present(row: dict) -> dict:
    """A ticket as Zendesk's API shows it."""
    return {
        "id": row["id"], "url": _ticket_url(row["id"]), "external_id": row["external_id"],
        "subject": row["subject"], "raw_subject": row["subject"], "description": row["description"],
        "status": row["status"], "priority": row["priority"], "type": row["type"], "tags": json.loads(row["tags"]),
        "requester_id": row["requester_id"], "submitter_id": row["requester_id"], "assignee_id": None,
        "via": {"channel": "api"}, "created_at": row["created_at"], "updated_at": row["updated_at"],
    }


def store():
    """The app's ticket store."""
    return current_app.extensions["ticket_store"]


def _ticket_url(ticket_id: int) -> str:
    return f"{request.host_url.rstrip('/')}/api/v2/tickets/{ticket_id}.json"


def _api_user() -> dict:
    """The agent the credentials belong to (author of API changes)."""
    email = current_app.config["TICKETS_API_EMAIL"]
    return {"name": email or "API", "email": email}


def _existing(ticket_id: int) -> dict:
    ticket = store().get(ticket_id)
    if ticket is None:
        raise ApiError(404, "RecordNotFound", "Not found")
    return ticket


def _ticket_body() -> dict:
    if request.mimetype != "application/json":
        raise ApiError(415, "UnsupportedMediaType", "Send JSON with Content-Type: application/json")
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("ticket"), dict):
        raise ApiError(400, "InvalidRequest", 'The body must be a JSON object like {"ticket": {...}}')
    return body["ticket"]


def positive_number(name: str, default: int) -> int:
    """The query parameter `name` as a whole number from 1 to MAX_PAGE (a page or page size), else Zendesk's 400."""
    raw = request.args.get(name, str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise ApiError(400, "InvalidPaginationParameter", f"{name} must be a whole number from 1 to {MAX_PAGE}")
    return int(raw)


def _fields(body: dict, *, creating: bool) -> dict:
    """The ticket fields given, checked; every problem at once in one 422."""
    fields, details = {}, {}
    for name, allowed in (("status", STATUSES), ("priority", PRIORITIES), ("type", TYPES)):
        if name in body:
            value = body[name]
            if value is None and name != "status":
                fields[name] = None
            elif isinstance(value, str) and value.lower() in allowed:
                fields[name] = value.lower()
            else:
                details.update(field_error(name, f"{json.dumps(value)[:40]} is not valid"))
    if "subject" in body:
        if not isinstance(body["subject"], str) or len(body["subject"]) > MAX_SUBJECT:
            details.update(field_error("subject", f"must be text of at most {MAX_SUBJECT} characters"))
        else:
            fields["subject"] = body["subject"]
    if "tags" in body:
        if not isinstance(body["tags"], list) or not all(isinstance(tag, str) for tag in body["tags"]):
            details.update(field_error("tags", "must be a list of strings"))
        else:  # Zendesk tags are lower-case words: a space separates two tags
            fields["tags"] = sorted({word.lower() for tag in body["tags"] for word in tag.split()})
    if "external_id" in body:
        value = body["external_id"]
        if creating and (value is None or isinstance(value, int | str) and not isinstance(value, bool)
                         and len(str(value)) <= 255):
            fields["external_id"] = None if value is None else str(value)
        elif creating:
            details.update(field_error("external_id", "must be text of at most 255 characters"))
    if details:
        raise invalid(details)
    return fields


def _comment(comment) -> dict | None:
    """A comment {"body", "public"} (public unless said otherwise, as in Zendesk), or None if absent."""
    if comment is None:
        return None
    if not isinstance(comment, dict):
        raise invalid(field_error("comment", "must be an object with a body"))
    body = comment.get("body", comment.get("html_body"))
    if not isinstance(body, str) or not body.strip():
        raise invalid(field_error("comment", "body cannot be blank", "BlankValue"))
    public = comment.get("public", True)
    if not isinstance(public, bool):
        raise invalid(field_error("comment", "public must be true or false"))
    return {"body": body, "public": public}


def _requester(body: dict) -> dict:
    """The requester as {"id"} (known) or {"name", "email"}; the API user when none is given."""
    if "requester_id" in body:
        user_id = body["requester_id"]
        if isinstance(user_id, bool) or not isinstance(user_id, int) or not store().user_exists(user_id):
            raise invalid(field_error("requester_id", "is not a known user"))
        return {"id": user_id}
    requester = body.get("requester")
    if requester is None:
        return _api_user()
    if not isinstance(requester, dict):
        raise invalid(field_error("requester", "must be an object with a name and/or email"))
    name, email = requester.get("name"), requester.get("email")
    if email is not None and (not isinstance(email, str) or not EMAIL.match(email)):
        raise invalid(field_error("requester", "email is not a valid address"))
    if name is not None and (not isinstance(name, str) or len(name) > 255):
        raise invalid(field_error("requester", "name must be text of at most 255 characters"))
    if not name and not email:
        raise invalid(field_error("requester", "needs a name or an email", "BlankValue"))
    return {"name": name, "email": email}
