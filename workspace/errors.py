"""Domain exceptions and the one JSON error envelope."""

import sqlalchemy as sa
from flask import Flask, has_request_context, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from werkzeug.exceptions import HTTPException

from workspace.extensions import db

# What a 503 for an outage tells the caller to wait before trying again (a database restart takes seconds).
OUTAGE_RETRY_AFTER_SECONDS = 5


class SwitchboardError(Exception):
    """An error a client caused; carries its HTTP status and a stable code."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status


class ValidationError(SwitchboardError):
    """The request's content is malformed; the message names the field."""

    code = "invalid"


class NotFound(SwitchboardError):
    """The thing asked for does not exist (or is not visible to the caller)."""

    status = 404
    code = "not_found"


class Unauthorized(SwitchboardError):
    """Credentials are missing or wrong."""

    status = 401
    code = "unauthorized"


class Forbidden(SwitchboardError):
    """The caller is known but may not do this."""

    status = 403
    code = "forbidden"


# Titles of the error pages people see in a browser (API clients get the JSON envelope).
PAGE_TITLES = {403: "Not allowed", 404: "Page not found", 405: "Not allowed here", 503: "Switchboard is busy",
               500: "Something went wrong"}


def _for_a_person() -> bool:
    """Whether a browser asked for a page (it prefers HTML, and the path is not the API or a webhook)."""
    if request.path.startswith(("/api/", "/webhooks/", "/socket.io")):
        return False
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def error_response(status: int, code: str, message: str):
    """Build the JSON error envelope every error uses; a person's browser asking for a page gets it as a page."""
    if has_request_context() and _for_a_person():
        title = PAGE_TITLES.get(status, "That did not work")
        try:
            return make_response(render_template("error.html", status=status, title=title, message=message), status)
        except Exception:  # noqa: BLE001 - a page that cannot render itself still answers, as JSON
            pass
    response = jsonify(error={"code": code, "message": message})
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    """Register the envelope for domain errors, HTTP errors and crashes."""

    @app.errorhandler(SwitchboardError)
    def handle_domain_error(error: SwitchboardError):
        db.session.rollback()
        response = error_response(error.status, error.code, error.message)
        response.headers.update(getattr(error, "headers", {}))  # e.g. a 429's Retry-After
        return response

    @app.errorhandler(CSRFError)
    def handle_csrf_error(error: CSRFError):
        return error_response(400, "csrf_failed", f"{error.description} Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        code = (error.name or "error").lower().replace(" ", "_")
        response = error_response(error.code or 500, code, error.description or error.name)
        if error.code == 405 and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(sa.exc.OperationalError)
    @app.errorhandler(sa.exc.InterfaceError)
    @app.errorhandler(RedisConnectionError)
    @app.errorhandler(RedisTimeoutError)
    def handle_outage(error: Exception):
        """The database or Redis did not answer (restarting, down, locked): 503 with Retry-After, so a webhook
        sender or the console tries again, rather than a 500 for a fault that is not the request's."""
        db.session.rollback()
        app.logger.warning("answering 503: %s: %s", type(error).__name__, str(error).partition("\n")[0][:200])
        response = error_response(503, "unavailable", "A service Switchboard needs is not answering. "
                                  "Try again shortly.")
        response.headers["Retry-After"] = str(OUTAGE_RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(Exception)
    def handle_crash(error: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error")
        return error_response(500, "internal_error", "Something went wrong on our side.")
