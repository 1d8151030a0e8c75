"""Socket.IO handlers: authenticated connections, their rooms, presence, typing and soft locks."""

from flask import request, session
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, emit, join_room, leave_room

from workspace.errors import Unauthorized
from workspace.extensions import db, socketio
from workspace.live import presence, signals
from workspace.live.changes import announce
from workspace.live.rooms import agent_room, conversation_room, dashboard_room, queue_room
from workspace.models import Agent, ApiToken, Conversation, is_id
from workspace.observability import instruments
from workspace.services.conversations.actions import can_see
from workspace.services.conversations.queues import visible_queue_ids
from workspace.services.supervision import push as dashboard_push
from workspace.web.auth import token_for_secret


@socketio.on("connect")
def connect(auth=None):
    """Refuse anonymous connections; join the agent's own room and the rooms of their queues."""
    if current_user.is_authenticated:
        agent, may_write = current_user._get_current_object(), True
    else:
        secret = auth.get("token") if isinstance(auth, dict) else None
        token = _live_token(secret or request.args.get("token"))
        # A socket only reads (the `read` scope); typing and taking the soft lock also need `write`.
        agent = token.agent if token is not None and "read" in token.scope_set else None
        may_write = agent is not None and "write" in token.scope_set
    if agent is None:
        raise ConnectionRefusedError("unauthorized")
    session["agent_id"] = agent.id
    session["may_write"] = may_write
    join_room(agent_room(agent.id))
    for queue_id in visible_queue_ids(agent):
        join_room(queue_room(queue_id))
    _status_changed(agent, presence.agent_connected(agent.id), "online")
    db.session.remove()
    instruments.socket_connected()  # last: a connection refused on the way is not counted


def _live_token(secret: str | None) -> ApiToken | None:
    """The live token a socket's secret belongs to, or None (a socket is refused, not answered with 401)."""
    try:
        return token_for_secret(secret) if secret else None
    except Unauthorized:
        return None


def _status_changed(agent: Agent, before: str | None, status: str) -> None:
    """After a connection or heartbeat: a new status changes the dashboard's agents table; coming online asks
    for work in the agent's queues."""
    if before == status:
        return
    dashboard_push.mark_changed()
    if status == "online":
        announce(signals.assignment_requested, *(queue.id for queue in agent.queues))


@socketio.on("watch_dashboard")
def watch_dashboard(data=None):
    """A supervisor's dashboard page joins the room its live figures and incident alerts go to."""
    agent = db.session.get(Agent, session.get("agent_id"))
    allowed = agent is not None and agent.role in ("supervisor", "admin")
    db.session.remove()
    if not allowed:
        return {"ok": False}
    join_room(dashboard_room())
    dashboard_push.watch()
    return {"ok": True}


def _agent_and_conversation(data, write: bool = False) -> tuple[Agent, int] | tuple[None, None]:
    """The connection's agent and the conversation id in the event, if they may see it (and, for `write`,
    the connection came with a session or a token holding the write scope)."""
    if write and not session.get("may_write"):
        return None, None
    agent = db.session.get(Agent, session.get("agent_id"))
    conversation_id = data.get("conversation_id") if isinstance(data, dict) else None
    if agent is None or not is_id(conversation_id):
        return None, None
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None or not can_see(agent, conversation):
        return None, None
    return agent, conversation_id


def _announce(conversation_id: int) -> None:
    """Send the conversation's presence (viewers, typing, lock) to everyone viewing it."""
    emit("presence", presence.snapshot(conversation_id), to=conversation_room(conversation_id))


@socketio.on("view")
def view(data):
    """The agent opened a conversation: join its room and tell everyone there."""
    agent, conversation_id = _agent_and_conversation(data)
    if agent is None:
        return {"ok": False}
    previous = session.get("viewing")
    if previous and previous != conversation_id:
        _stop_viewing(previous, agent.id)
    session["viewing"] = conversation_id
    join_room(conversation_room(conversation_id))
    presence.join(conversation_id, agent)
    _announce(conversation_id)
    db.session.remove()
    return {"ok": True}


@socketio.on("typing")
def typing(data):
    """The agent is typing a reply: they take the soft lock unless someone else holds it."""
    agent, conversation_id = _agent_and_conversation(data, write=True)
    if agent is None:
        return {"ok": False}
    holds = presence.typing(conversation_id, agent)
    _announce(conversation_id)
    db.session.remove()
    return {"ok": True, "lock": holds}


@socketio.on("take_over")
def take_over(data):
    """Take the soft lock from whoever holds it."""
    agent, conversation_id = _agent_and_conversation(data, write=True)
    if agent is None:
        return {"ok": False}
    presence.take_over(conversation_id, agent)
    _announce(conversation_id)
    db.session.remove()
    return {"ok": True}


@socketio.on("leave")
def leave(data):
    """The agent closed the conversation."""
    conversation_id = data.get("conversation_id") if isinstance(data, dict) else None
    if session.get("agent_id") and conversation_id == session.get("viewing"):
        _stop_viewing(conversation_id, session["agent_id"])
        session["viewing"] = None


@socketio.on("disconnect")
def disconnect(*args):
    """A closed tab leaves whatever it was viewing; with no console left the agent is offline."""
    if session.get("agent_id") and session.get("viewing"):
        _stop_viewing(session["viewing"], session["agent_id"])
    if session.get("agent_id"):  # an accepted connection (a refused one never reaches here)
        instruments.socket_disconnected()
        presence.agent_disconnected(session["agent_id"])
        dashboard_push.mark_changed()


@socketio.on("heartbeat")
def heartbeat(data):
    """The console is alive (every 30 s) and says whether its agent is online or away."""
    agent = db.session.get(Agent, session.get("agent_id"))
    status = data.get("status") if isinstance(data, dict) else None
    if agent is None or status not in presence.AGENT_STATUSES:
        return {"ok": False}
    _status_changed(agent, presence.agent_heartbeat(agent.id, status), status)
    db.session.remove()
    return {"ok": True, "status": status}


def _stop_viewing(conversation_id: int, agent_id: int) -> None:
    presence.leave(conversation_id, agent_id)
    leave_room(conversation_room(conversation_id))
    _announce(conversation_id)
