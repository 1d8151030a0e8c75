"""Publishing events to the consoles: the one place that calls `socketio.emit`.

Emits go through Redis (the Socket.IO message queue), so a worker or any web
process can publish to rooms whose sockets another process holds.
"""

from workspace.extensions import socketio


def publish(event: str, data: dict, room: str) -> None:
    """Send one event to one room (after the commit that made it true)."""
    socketio.emit(event, data, to=room)
