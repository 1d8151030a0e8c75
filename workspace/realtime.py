"""Socket.IO handlers: authenticated connections joined to the rooms they may see."""

from flask import request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room

from .auth import agent_for_token
from .extensions import db, socketio
from .services.events import agent_room, queue_room
from .services.queues import visible_queue_ids


@socketio.on("connect")
def connect(auth=None):
    """Refuse anonymous connections; join the agent's own room and the rooms of their queues."""
    if current_user.is_authenticated:
        agent = current_user._get_current_object()
    else:
        token = auth.get("token") if isinstance(auth, dict) else None
        agent = agent_for_token(token or request.args.get("token"))
    if agent is None:
        raise ConnectionRefusedError("unauthorized")
    join_room(agent_room(agent.id))
    for queue_id in visible_queue_ids(agent):
        join_room(queue_room(queue_id))
    db.session.remove()
