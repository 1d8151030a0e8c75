"""Socket.IO room names: one per queue, per conversation, per agent, and the dashboard's."""


def queue_room(queue_id: int) -> str:
    """The room of everyone watching a queue."""
    return f"queue:{queue_id}"


def conversation_room(conversation_id: int) -> str:
    """The room of everyone viewing a conversation."""
    return f"conversation:{conversation_id}"


def agent_room(agent_id: int) -> str:
    """The private room of one agent's connections."""
    return f"agent:{agent_id}"


def dashboard_room() -> str:
    """The room of the supervisors watching the dashboard."""
    return "dashboard"
