"""The database models, one noun per module."""

from workspace.models.agent import (
    ADMIN_SCOPES,
    ROLES,
    SCOPE_MEANINGS,
    TOKEN_SCOPES,
    Agent,
    ApiToken,
    has_role,
    hash_token,
    queue_members,
    scopes_allowed,
)
from workspace.models.alerts import ALERT_SETTINGS_ID, AlertSettings, IncidentAlert
from workspace.models.article import ARTICLE_STATUSES, Article
from workspace.models.assignment import STRATEGIES, Assignment
from workspace.models.audit import AuditEntry
from workspace.models.author import Author, AuthorNote
from workspace.models.automation import FIRING_RESULTS, Automation, AutomationFiring
from workspace.models.base import MAX_ID, UTCDateTime, is_id, utcnow
from workspace.models.bulk import BULK_STATES, ITEM_RESULTS, BulkAction, BulkItem
from workspace.models.channel import Channel
from workspace.models.conversation import ACTIVE_STATUSES, NOT_DUE, RESOLVING, STATUSES, Conversation, Priority
from workspace.models.conversation_merge import MERGE_KINDS, ConversationMerge
from workspace.models.email import EmailAttachment, EmailSuppression, SpooledEmail, SuspendedEmail
from workspace.models.escalation import TICKET_DONE_STATUSES, Escalation
from workspace.models.macro import SCOPES, Macro, MacroUsage
from workspace.models.message import Message
from workspace.models.model_version import Correction, ModelVersion
from workspace.models.notification import (
    NOTIFICATION_KINDS,
    Notification,
    NotificationSettings,
    PushSubscription,
)
from workspace.models.on_call import OnCallShift
from workspace.models.outbox import OutboxEntry
from workspace.models.person import EVIDENCE_KINDS, LINK_STATUSES, Person, PersonLink
from workspace.models.priority_weights import PriorityWeightSetting
from workspace.models.queue import TRIAGE, Queue
from workspace.models.queue_count import QueueCount
from workspace.models.rule import Rule
from workspace.models.satisfaction import SatisfactionRating
from workspace.models.search_index import SEARCH_OBJECTS
from workspace.models.sla import TARGETS, BusinessCalendar, SlaOutcome, SlaPolicy
from workspace.models.sso_identity import SsoIdentity
from workspace.models.subscription import DELIVERY_STATES, EVENTS, EventDelivery, Subscription
from workspace.models.suggestion import OUTCOMES, SUGGESTION_KINDS, Suggestion, SuggestionVersion
from workspace.models.supervision import (
    INCIDENT_STATUSES,
    MATCH_KINDS,
    SCORES,
    Incident,
    QaReview,
    VolumeCount,
    incident_conversations,
)
from workspace.models.two_factor import RecoveryCode
from workspace.models.view import SavedView

__all__ = [
    "ACTIVE_STATUSES", "ADMIN_SCOPES", "ARTICLE_STATUSES", "BULK_STATES", "DELIVERY_STATES", "EVENTS",
    "EVIDENCE_KINDS", "FIRING_RESULTS", "INCIDENT_STATUSES", "ITEM_RESULTS", "LINK_STATUSES", "MATCH_KINDS", "MAX_ID",
    "MERGE_KINDS", "NOTIFICATION_KINDS", "NOT_DUE", "OUTCOMES", "RESOLVING", "ROLES", "SCOPES", "SCOPE_MEANINGS",
    "SCORES",
    "SEARCH_OBJECTS", "STATUSES", "STRATEGIES", "SUGGESTION_KINDS", "TARGETS", "TICKET_DONE_STATUSES", "TOKEN_SCOPES",
    "TRIAGE", "Agent", "ApiToken", "Article", "Assignment", "AuditEntry", "Author", "AuthorNote", "Automation",
    "AutomationFiring", "BulkAction", "BulkItem", "BusinessCalendar", "Channel", "Conversation", "ConversationMerge",
    "Correction", "EmailAttachment", "EmailSuppression", "Escalation", "EventDelivery", "Incident", "Macro",
    "MacroUsage", "Message", "ModelVersion", "Notification", "NotificationSettings", "OnCallShift", "OutboxEntry",
    "Person", "PersonLink", "Priority", "PriorityWeightSetting", "PushSubscription", "QaReview", "Queue", "QueueCount",
    "RecoveryCode", "Rule", "SatisfactionRating", "SavedView", "SlaOutcome", "SlaPolicy", "SsoIdentity",
    "Subscription", "Suggestion", "SuggestionVersion",
    "SpooledEmail", "SuspendedEmail", "UTCDateTime", "VolumeCount", "has_role", "hash_token",
    "incident_conversations", "is_id",
    "queue_members", "scopes_allowed", "utcnow",
    "ALERT_SETTINGS_ID", "AlertSettings", "IncidentAlert",
]
