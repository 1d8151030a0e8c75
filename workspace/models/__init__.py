"""The database models, one noun per module."""

from .agent import ROLES, Agent, ApiToken, hash_token, queue_members
from .assignment import STRATEGIES, Assignment
from .audit import AuditEntry
from .author import Author, AuthorNote
from .base import UTCDateTime, utcnow
from .bulk import BULK_STATES, ITEM_RESULTS, BulkAction, BulkItem
from .channel import Channel
from .conversation import ACTIVE_STATUSES, NOT_DUE, STATUSES, Conversation, Priority
from .escalation import TICKET_DONE_STATUSES, Escalation
from .macro import SCOPES, Macro, MacroUsage
from .message import Message
from .model_version import Correction, ModelVersion
from .outbox import OutboxEntry
from .queue import TRIAGE, Queue
from .queue_count import QueueCount
from .rule import Rule
from .sla import TARGETS, BusinessCalendar, SlaOutcome, SlaPolicy
from .supervision import INCIDENT_STATUSES, MATCH_KINDS, SCORES, Incident, QaReview, VolumeCount, incident_conversations

__all__ = [
    "ACTIVE_STATUSES", "BULK_STATES", "INCIDENT_STATUSES", "ITEM_RESULTS", "MATCH_KINDS",
    "NOT_DUE", "ROLES", "SCOPES", "SCORES", "STATUSES", "STRATEGIES", "TARGETS", "TICKET_DONE_STATUSES", "TRIAGE",
    "Agent", "ApiToken", "Assignment", "AuditEntry", "Author", "AuthorNote", "BulkAction", "BulkItem",
    "BusinessCalendar", "Channel", "Conversation", "Correction", "Escalation", "Incident", "Macro", "MacroUsage",
    "Message", "ModelVersion", "OutboxEntry", "Priority", "QaReview", "Queue", "QueueCount", "Rule", "SlaOutcome",
    "SlaPolicy", "UTCDateTime", "VolumeCount", "hash_token", "incident_conversations", "queue_members", "utcnow",
]
