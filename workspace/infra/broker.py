"""The Redis connection and the RQ queue that carry background work."""

from flask import Flask, current_app
from redis import Redis
from rq import Queue


def init_app(app: Flask) -> None:
    """Create the app's Redis client; it connects lazily, on first use."""
    app.extensions["redis"] = Redis.from_url(
        app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5
    )


def redis_client() -> Redis:
    """Return the current app's Redis client."""
    return current_app.extensions["redis"]


def job_queue() -> Queue:
    """Return the RQ queue that routing and delivery jobs go to."""
    return Queue(current_app.config["RQ_QUEUE"], connection=redis_client())
