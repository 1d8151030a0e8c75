"""The database models, one noun per module."""

from .agent import ROLES, Agent, ApiToken, hash_token, queue_members
from .audit import AuditEntry
from .author import Author, AuthorNote
from .base import UTCDateTime, utcnow
from .channel import Channel
from .conversation import ACTIVE_STATUSES, NOT_DUE, STATUSES, Conversation, Priority
from .message import Message
from .model_version import Correction, ModelVersion
from .outbox import OutboxEntry
from .queue import TRIAGE, Queue
from .rule import Rule

__all__ = [
    "ACTIVE_STATUSES", "NOT_DUE", "ROLES", "STATUSES", "TRIAGE",
    "Agent", "ApiToken", "AuditEntry", "Author", "AuthorNote", "Channel", "Conversation", "Correction", "Message",
    "ModelVersion", "OutboxEntry", "Priority", "Queue", "Rule", "UTCDateTime", "hash_token", "queue_members", "utcnow",
]

from .escalation import TICKET_DONE_STATUSES, Escalation  # noqa: E402

__all__ += ["TICKET_DONE_STATUSES", "Escalation"]
