"""Switchboard: support-queue triage and live agent workspace."""

import os
import secrets

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from workspace import cli, errors, jobs, models, observability  # noqa: F401  (models register their tables)
from workspace.config import Config
from workspace.extensions import db, migrate, socketio
from workspace.infra import broker
from workspace.jobs import dispatch
from workspace.services.intake import group_commit
from workspace.services.subscriptions import events as outbound_events
from workspace.services.supervision import push as dashboard_push
from workspace.web import (  # noqa: F401  (sockets: handlers before init_app)
    api,
    auth,
    headers,
    health,
    metrics,
    sockets,
    sso,
    validation,
)
from workspace.web.pages.console import bp as console_bp
from workspace.web.pages.security import bp as security_bp
from workspace.web.pages.supervisor import bp as dashboard_bp
from workspace.web.pages.survey import bp as survey_bp
from workspace.web.webhooks import limits as webhook_limits
from workspace.web.webhooks.channels import bp as ingest_bp
from workspace.web.webhooks.tickets import bp as ticketing_bp


def create_app(config: type | dict | None = None) -> Flask:
    """Build a Switchboard app: load config, bind extensions, register blueprints.

    Args:
        config: a config class, or a mapping of overrides on top of `Config`.

    Returns:
        The configured Flask application.
    """
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    app = Flask(__name__, static_folder=os.path.join(root, "static"), instance_relative_config=False)
    if isinstance(config, type):
        app.config.from_object(config)
    else:
        app.config.from_object(Config)
        app.config.update(config or {})
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(app.instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        path = os.path.join(app.instance_path, "switchboard.db")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", _engine_options(app.config["SQLALCHEMY_DATABASE_URI"]))

    # Before any blueprint: every `<int:...>` route then refuses ids no database row can have.
    app.url_map.converters["int"] = validation.DatabaseId
    app.json = validation.StrictJSONProvider(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
    broker.init_app(app)
    errors.init_app(app)
    headers.init_app(app)
    webhook_limits.init_app(app)
    auth.init_app(app)
    sso.init_app(app)
    dispatch.init_app(app)
    group_commit.init_app(app)
    dashboard_push.init_app(app)
    outbound_events.init_app(app)
    jobs.init_app(app)
    observability.init_app(app)

    # The singleton keeps the last app's client manager across init_app calls;
    # drop it so each app gets the message queue its own config names.
    socketio.server_options.pop("client_manager", None)
    socketio.init_app(app, message_queue=app.config.get("SOCKETIO_MESSAGE_QUEUE", app.config["REDIS_URL"]),
                      async_mode=app.config.get("SOCKETIO_ASYNC_MODE"))
    if app.config["PROXY_COUNT"]:
        # Outside Socket.IO's middleware, so its requests see the real client too. Only as many
        # hops as there are proxies are believed: a client's own X-Forwarded-For is ignored.
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)

    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(ingest_bp)
    app.register_blueprint(console_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(ticketing_bp)
    app.register_blueprint(security_bp)
    app.register_blueprint(survey_bp)
    cli.init_app(app)
    return app


def _engine_options(url: str) -> dict:
    """Pool settings per database: a server connection can go stale, a SQLite file cannot.

    Every in-flight request and background thread may hold a connection; a pool
    smaller than that opens and tunes a fresh SQLite connection per request.
    """
    if url.startswith("sqlite"):
        return {"pool_size": 32, "max_overflow": 32}
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}


def _instance_secret(instance_path: str) -> str:
    """Return this installation's secret key, creating it on first start."""
    path = os.path.join(instance_path, "secret_key")
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    with open(path) as handle:
        return handle.read().strip()


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection, connection_record) -> None:
    """Turn on WAL, foreign keys and a busy timeout for every SQLite connection."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
