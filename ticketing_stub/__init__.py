"""The ticketing stub: a small Zendesk-compatible service of its own (app, port, SQLite file).

Run it with the Procfile's `tickets` line (`./bin/run` does), or
`gunicorn 'ticketing_stub:create_app()'`. It serves the Zendesk
Tickets API subset Switchboard speaks, a page listing tickets where someone can
change their status, and sends each status change back by signed webhook.
"""

import os

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from ticketing_stub.store import Store
from workspace.config import TicketingStubConfig


def create_app(config: dict | None = None) -> Flask:
    """Build the stub: its config (TICKETS_* variables, or overrides), its store and its two blueprints."""
    # The project's instance folder, beside Switchboard's own files (but never its tables).
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    app = Flask(__name__, instance_path=os.path.join(root, "instance"))
    app.config.from_object(TicketingStubConfig)
    app.config.update(config or {})
    path = app.config["TICKETS_DATABASE"]
    if not path:
        os.makedirs(app.instance_path, exist_ok=True)
        path = os.path.join(app.instance_path, "tickets.db")
    app.extensions["ticket_store"] = Store(path)

    from ticketing_stub import api, pages, search  # noqa: F401  (search adds its route to api.bp)

    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        """Answer API clients in Zendesk's error shape (unknown endpoints: InvalidEndpoint), people in HTML."""
        from flask import request

        if not request.path.startswith("/api/"):
            return error
        name = "InvalidEndpoint" if error.code == 404 else (error.name or "Error").replace(" ", "")
        return jsonify(error=name, description=error.description or error.name), error.code

    return app
