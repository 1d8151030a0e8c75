"""Pushing the dashboard live: a dirty flag set by changes, and one snapshot per tick to the dashboard room.

Changes mark the figures dirty through the `queues_changed` signal; a
background task in each web process pushes a snapshot when they are dirty or
the periodic push is due, and web processes race for a short lock so one
snapshot goes out per tick however many run.
"""

import logging

from flask import Flask, current_app

from workspace.extensions import db, socketio
from workspace.infra.broker import redis_client
from workspace.live import signals
from workspace.live.publish import publish
from workspace.live.rooms import dashboard_room
from workspace.services.supervision.dashboard import snapshot
from workspace.services.supervision.volume import redis_key

log = logging.getLogger(__name__)

# A snapshot goes out at least this often even when nothing changed.
PERIODIC_SECONDS = 30


def mark_changed() -> None:
    """Note that the dashboard's figures moved (conversations were created or changed)."""
    redis_client().set(redis_key("dashboard", "dirty"), 1)


def _queues_changed(sender, ids: list[int]) -> None:
    """Receiver of live.signals.queues_changed: the figures moved."""
    mark_changed()


def push(force: bool = False) -> bool:
    """Send a fresh snapshot to the dashboard room if the figures changed or the periodic push is due.

    Web processes race for a short lock, so one snapshot goes out per tick however many run.

    Returns:
        Whether a snapshot was sent.
    """
    redis = redis_client()
    interval_ms = max(int(current_app.config["DASHBOARD_PUSH_SECONDS"] * 1000), 100)
    if not force and not redis.set(redis_key("dashboard", "push-lock"), 1, nx=True, px=interval_ms):
        return False
    changed = redis.delete(redis_key("dashboard", "dirty"))
    periodic = redis.set(redis_key("dashboard", "periodic"), 1, nx=True, ex=PERIODIC_SECONDS)
    if not (force or changed or periodic):
        return False
    publish("dashboard.snapshot", snapshot(), dashboard_room())
    return True


class Pusher:
    """The web process's background task that pushes dashboard snapshots while supervisors watch."""

    def __init__(self, app: Flask):
        self.app = app
        self.started = False

    def start(self) -> None:
        """Start the loop on the first dashboard watcher (after any fork; once per process)."""
        if not self.started:
            self.started = True
            socketio.start_background_task(self.run)

    def run(self) -> None:
        """Every DASHBOARD_PUSH_SECONDS, push if needed; errors are logged and the loop goes on."""
        while True:
            socketio.sleep(self.app.config["DASHBOARD_PUSH_SECONDS"])
            with self.app.app_context():
                try:
                    push()
                except Exception:
                    log.exception("dashboard push failed")
                finally:
                    db.session.remove()


def watch() -> None:
    """A supervisor opened the dashboard: make sure this process pushes snapshots."""
    pusher = current_app.extensions.get("dashboard_pusher")
    if pusher is not None:
        pusher.start()


def init_app(app: Flask) -> None:
    """Attach the pusher to the app when configured to run one (web processes)."""
    if app.config["DASHBOARD_PUSHER_ENABLED"]:
        app.extensions["dashboard_pusher"] = Pusher(app)
    signals.queues_changed.connect(_queues_changed)
