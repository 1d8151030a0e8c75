"""What happened, for the features that react to it: signals sent after a commit.

A feature that must follow a change (the dashboard's dirty flag, the jobs that
deliver replies or create tickets, the retrain after enough corrections)
connects a receiver here instead of being called by name, as Chatwoot's
listeners and Zammad's transaction backends do. Every signal is sent with
`ids=[...]` (conversation, message, escalation, queue or bulk ids) after the
transaction that made them true has committed; receivers connect in their
package's `init_app`.
"""

from blinker import Namespace

_signals = Namespace()

# Conversations in these queues changed (ids: queue ids).
queues_changed = _signals.signal("queues-changed")
# Replies were stored and wait for delivery (ids: message ids).
replies_queued = _signals.signal("replies-queued")
# Escalations were stored and wait for their ticket (ids: escalation ids).
escalations_requested = _signals.signal("escalations-requested")
# Agents moved routed conversations: labelled examples for the classifier (ids: conversation ids).
corrections_added = _signals.signal("corrections-added")
# Capacity may have freed up in these queues: assign what waits (ids: queue ids).
assignment_requested = _signals.signal("assignment-requested")
# A bulk action was started, or its undo asked for (ids: bulk ids).
bulk_started = _signals.signal("bulk-started")
bulk_undo_requested = _signals.signal("bulk-undo-requested")
# SLA policies or calendars changed: re-plan these clocks (keys: (queue id, priority) pairs).
sla_resync_requested = _signals.signal("sla-resync-requested")
# Conversations were routed (ids: conversation ids; stored_at: when each one's routed post was stored).
conversations_routed = _signals.signal("conversations-routed")
# Conversations were given to an agent (ids: (conversation id, id of the agent who assigned, or None) pairs).
conversations_assigned = _signals.signal("conversations-assigned")
# Internal notes were added (ids: message ids).
notes_added = _signals.signal("notes-added")
# SLA clocks went at risk (ids: conversation ids).
sla_at_risk = _signals.signal("sla-at-risk")
# Incidents were opened, by hand or by spike detection (ids: incident ids).
incidents_opened = _signals.signal("incidents-opened")
# New notifications wait for their push to be decided (ids: agent ids).
notifications_created = _signals.signal("notifications-created")
# Automations fired on conversations (ids: automation firing ids).
automations_fired = _signals.signal("automations-fired")
# Outbound event deliveries were stored and wait for their job (ids: event delivery ids).
events_recorded = _signals.signal("events-recorded")
# Conversations were created or changed, after the commit (ids: conversation ids; kind: "created" or "updated").
conversations_changed = _signals.signal("conversations-changed")
# Conversations became resolved, after the commit (ids: conversation ids; not updates of resolved ones).
conversations_resolved = _signals.signal("conversations-resolved")
# Customers answered satisfaction surveys (ids: satisfaction rating ids).
ratings_received = _signals.signal("ratings-received")
# Inbound posts were stored outside a request, their conversations waiting in the outbox for routing
# (ids: conversation ids): wakes the process's outbox dispatcher.
posts_stored = _signals.signal("posts-stored")
