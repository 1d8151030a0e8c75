"""Socket.IO handlers: authenticated connections joined to their rooms."""

import sqlalchemy as sa
from flask import request
from flask_socketio import ConnectionRefusedError, join_room

from .auth import agent_for_token
from .extensions import db, socketio
from .models import Queue
from .services.events import agent_room, queue_room


@socketio.on("connect")
def connect(auth=None):
    """Refuse anonymous connections; join the agent's own room and their queues' rooms."""
    token = (auth or {}).get("token") if isinstance(auth, dict) else None
    agent = agent_for_token(token or request.args.get("token"))
    if agent is None:
        raise ConnectionRefusedError("unauthorized")
    join_room(agent_room(agent.id))
    for queue_id in db.session.scalars(sa.select(Queue.id)):
        join_room(queue_room(queue_id))
    db.session.remove()
