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
from .supervision import INCIDENT_STATUSES, MATCH_KINDS, SCORES, Incident, QaReview, VolumeCount, incident_conversations

__all__ = [
    "ACTIVE_STATUSES", "NOT_DUE", "ROLES", "STATUSES", "TRIAGE",
    "Agent", "ApiToken", "AuditEntry", "Author", "AuthorNote", "Channel", "Conversation", "Correction", "Message",
    "ModelVersion", "OutboxEntry", "Priority", "Queue", "Rule", "UTCDateTime", "hash_token", "queue_members", "utcnow",
    "INCIDENT_STATUSES", "MATCH_KINDS", "SCORES", "Incident", "QaReview", "VolumeCount", "incident_conversations",
]
