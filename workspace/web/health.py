"""Liveness and readiness endpoints for load balancers and process managers."""

import sqlalchemy as sa
from flask import Blueprint, jsonify
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from workspace.extensions import db
from workspace.infra.broker import redis_client

bp = Blueprint("health", __name__)


@bp.get("/ping")
def ping():
    """Answer at once: the process is up (touches nothing)."""
    return "pong"


@bp.get("/healthz")
def healthz():
    """Answer 200 when the database and Redis are reachable, else 503 naming what is not."""
    checks = {}
    try:
        db.session.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as error:
        checks["database"] = f"unreachable: {type(error).__name__}"
    finally:
        db.session.rollback()
    try:
        redis_client().ping()
        checks["redis"] = "ok"
    except RedisError as error:
        checks["redis"] = f"unreachable: {type(error).__name__}"
    healthy = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if healthy else "unavailable", checks=checks), 200 if healthy else 503
