"""The database models, one noun per module."""

from .agent import ROLES, Agent, ApiToken, hash_token
from .base import UTCDateTime, utcnow
from .channel import Channel
from .author import Author
from .queue import TRIAGE, Queue
from .conversation import ACTIVE_STATUSES, STATUSES, Conversation, Priority
from .message import Message
from .outbox import OutboxEntry

__all__ = [
    "ACTIVE_STATUSES", "ROLES", "STATUSES", "TRIAGE",
    "Agent", "ApiToken", "Author", "Channel", "Conversation", "Message",
    "OutboxEntry", "Priority", "Queue", "UTCDateTime", "hash_token", "utcnow",
]
