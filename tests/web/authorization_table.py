"""The authorization matrix's table: who may call each route and socket event (tests/web/test_authorization_matrix.py).

Callers, in this order (the last ones may undo what the first did, so destructive calls go to admins last):
anonymous; an agent not in the conversation's queue (tech); an agent in it (billing); a supervisor; an admin.
Each API call goes with the caller's full token; each page with the caller's console session.

Outcomes: u = 401 (or, for a page, the way to the sign-in page); f = 403; h = 404, not theirs to see;
o = let through (any other answer under 500: what a valid body would do is each endpoint's own test).
The last column is the token scope the route needs: a token of an admin holding every scope but that one
must get 403 naming it ("admin|webhooks": either will do; None: the route takes no API token).
"""

ACTORS = ("anonymous", "agent_out", "agent_in", "supervisor", "admin")

ROUTES = {
    # Pages: sessions only.
    "GET /": ("uoooo", None),
    "GET /conversations/<int:conversation_id>": ("uoooo", None),  # the console shell; its data comes from the API
    "GET /admin": ("ufffo", None),
    "GET /admin/routing": ("ufffo", None),
    "GET /dashboard": ("uffoo", None),
    "GET /qa": ("uffoo", None),
    "GET /reviews": ("uoooo", None),
    "GET /tokens": ("uoooo", None),
    "GET /account/notifications": ("uoooo", None),
    "GET /manifest.webmanifest": ("ooooo", None),  # the installable console: public, as static files are
    "GET /sw.js": ("ooooo", None),
    "GET /offline": ("ooooo", None),
    "GET /reports/weekly": ("uffoo", None),
    "GET /login": ("ooooo", None),
    "POST /login": ("ooooo", None),
    "POST /logout": ("uoooo", None),
    # Single sign-on: 404 while SWITCHBOARD_SSO_ISSUER is unset, as here; when on, public steps of signing in
    # (tests/web/test_sso.py).
    # Two-factor: the code step follows a right password (without one it leads back to the sign-in page);
    # each agent's own Security page.
    "GET /login/code": ("uuuuu", None),
    "POST /login/code": ("uuuuu", None),
    "GET /account/security": ("uoooo", None),
    "POST /account/security/two-factor/start": ("uoooo", None),
    "POST /account/security/two-factor/confirm": ("uoooo", None),
    "POST /account/security/two-factor/disable": ("uoooo", None),
    "GET /login/sso": ("hhhhh", None),
    "GET /login/sso/callback": ("hhhhh", None),
    # Public: probes, the document, static files, and what senders sign with their own secrets.
    "GET /ping": ("ooooo", None),
    "GET /healthz": ("ooooo", None),
    "GET /static/<path:filename>": ("ooooo", None),
    "GET /api/v1/openapi.json": ("ooooo", None),
    "GET /webhooks/<slug>": ("ooooo", None),
    "POST /webhooks/<slug>": ("uuuuu", None),  # unsigned: 401 whoever asks
    "POST /webhooks/ticketing/status": ("uuuuu", None),
    "GET /metrics": ("ufffo", "admin"),
    # Agents, queues, channels.
    "GET /api/v1/agents": ("uffoo", "read"),
    "POST /api/v1/agents": ("ufffo", "admin"),
    "PATCH /api/v1/agents/<int:agent_id>": ("ufffo", "admin"),
    "GET /api/v1/queues": ("uoooo", "read"),
    "POST /api/v1/queues": ("ufffo", "admin"),
    "PATCH /api/v1/queues/<slug>": ("ufffo", "admin"),
    "GET /api/v1/queues/<slug>/conversations": ("uhooo", "read"),
    "PUT /api/v1/queues/<slug>/members/<int:agent_id>": ("ufffo", "admin"),
    "GET /api/v1/queues/<slug>/sla": ("uffoo", "read"),
    "PUT /api/v1/queues/<slug>/sla/<level>": ("ufffo", "admin"),
    "DELETE /api/v1/queues/<slug>/sla/<level>": ("ufffo", "admin"),
    "GET /api/v1/channels": ("ufffo", "admin|webhooks"),
    "GET /api/v1/suspended-mail": ("ufffo", "admin"),
    "POST /api/v1/suspended-mail/<int:suspended_id>/release": ("ufffh", "admin"),  # none held: 404
    "DELETE /api/v1/suspended-mail/<int:suspended_id>": ("ufffh", "admin"),
    "POST /api/v1/channels": ("ufffo", "admin"),
    "PATCH /api/v1/channels/<slug>": ("ufffo", "admin|webhooks"),
    # Tokens.
    "GET /api/v1/tokens": ("uoooo", "read"),
    "POST /api/v1/tokens": ("uoooo", "write"),
    "DELETE /api/v1/tokens/<int:token_id>": ("uhohh", "write"),  # own tokens only (admins: the agents/ path)
    "GET /api/v1/agents/<int:agent_id>/tokens": ("ufffo", "admin"),
    "POST /api/v1/agents/<int:agent_id>/tokens": ("ufffo", "admin"),
    "DELETE /api/v1/agents/<int:agent_id>/tokens/<int:token_id>": ("ufffo", "admin"),
    "DELETE /api/v1/agents/<int:agent_id>/two-factor": ("ufffo", "admin"),
    # Notifications and pushes: each agent's own; on-call rotas: supervisors read, admins write.
    "GET /api/v1/notifications": ("uoooo", "read"),
    "POST /api/v1/notifications/read": ("uoooo", "write"),
    "GET /api/v1/notifications/settings": ("uoooo", "read"),
    "PATCH /api/v1/notifications/settings": ("uoooo", "write"),
    "GET /api/v1/push/key": ("uoooo", "read"),
    "GET /api/v1/push/devices": ("uoooo", "read"),
    "POST /api/v1/push/devices": ("uoooo", "write"),
    "DELETE /api/v1/push/devices/<int:device_id>": ("uhohh", "write"),  # own devices only
    "GET /api/v1/on-call": ("uffoo", "read"),
    "GET /api/v1/queues/<slug>/on-call": ("uffoo", "read"),
    "PUT /api/v1/queues/<slug>/on-call": ("ufffo", "admin"),
    # Conversations and customers: seen only through a queue the agent works (supervisors and admins: all).
    "GET /api/v1/search": ("uoooo", "read"),
    "POST /api/v1/conversations/next": ("uoooo", "write"),
    "GET /api/v1/conversations/<int:conversation_id>": ("uhooo", "read"),
    "GET /api/v1/conversations/<int:conversation_id>/messages": ("uhooo", "read"),
    "PATCH /api/v1/conversations/<int:conversation_id>": ("uhooo", "write"),
    "GET /api/v1/conversations/<int:conversation_id>/assignments": ("uhooo", "read"),
    "POST /api/v1/conversations/<int:conversation_id>/escalate": ("uhooo", "write"),
    "POST /api/v1/conversations/<int:conversation_id>/macros/<int:macro_id>": ("uhooo", "write"),
    "POST /api/v1/conversations/<int:conversation_id>/notes": ("uhooo", "write"),
    "POST /api/v1/conversations/<int:conversation_id>/replies": ("uhooo", "write"),
    # Email: forwarding (the matrix's channel is not email: 400 to whoever may see it) and composing a new mail
    # into a queue (404 to an agent who does not work it).
    "POST /api/v1/conversations/<int:conversation_id>/forwards": ("uhooo", "write"),
    "POST /api/v1/conversations": ("uhooo", "write"),
    "GET /api/v1/attachments/<int:attachment_id>": ("uhooo", "read"),
    "GET /api/v1/authors/<int:author_id>": ("uhooo", "read"),
    "GET /api/v1/authors/<int:author_id>/conversations": ("uhooo", "read"),
    "PATCH /api/v1/authors/<int:author_id>": ("uhooo", "write"),
    "POST /api/v1/authors/<int:author_id>/notes": ("uhooo", "write"),
    "PATCH /api/v1/authors/<int:author_id>/notes/<int:note_id>": ("uhofo", "write"),  # its writer, or an admin
    "DELETE /api/v1/authors/<int:author_id>/notes/<int:note_id>": ("uhooo", "write"),
    # Merging and splitting conversations: each one named must be visible to the caller.
    "POST /api/v1/conversations/<int:conversation_id>/merge": ("uhooo", "write"),
    "POST /api/v1/conversations/merge": ("uhooo", "write"),
    "POST /api/v1/conversations/<int:conversation_id>/split": ("uhooo", "write"),
    "POST /api/v1/conversations/<int:conversation_id>/split-messages": ("uhooo", "write"),
    "POST /api/v1/conversation-merges/<int:merge_id>/undo": ("uhooo", "write"),
    # People: links between authors the caller may both see; custom fields; imports by supervisors and admins.
    "PATCH /api/v1/authors/<int:author_id>/fields": ("uhooo", "write"),
    "POST /api/v1/authors/<int:author_id>/links": ("uhooo", "write"),
    "POST /api/v1/person-links/<int:link_id>/confirm": ("uhooo", "write"),
    "POST /api/v1/person-links/<int:link_id>/dismiss": ("uhooo", "write"),
    "POST /api/v1/person-links/<int:link_id>/undo": ("uhooo", "write"),
    "POST /api/v1/people/import": ("uffoo", "write"),
    # Privacy: exports by supervisors and admins; erasure and retention by admins.
    "GET /api/v1/authors/<int:author_id>/export": ("uffoo", "read"),
    "POST /api/v1/authors/<int:author_id>/erase": ("ufffo", "admin"),
    "POST /api/v1/retention": ("ufffo", "admin"),
    "GET /api/v1/retention/<job_id>": ("ufffh", "admin"),  # no such job
    # Macros and bulk actions.
    "GET /api/v1/conversations/<int:conversation_id>/suggestions": ("uhooo", "read"),
    "GET /api/v1/conversations/<int:conversation_id>/known-issues": ("uhooo", "read"),
    "GET /api/v1/conversations/<int:conversation_id>/summary": ("uhooo", "read"),
    "POST /api/v1/conversations/<int:conversation_id>/draft": ("uhhhh", "write"),  # 404 generator_off: none set here
    "POST /api/v1/conversations/<int:conversation_id>/suggestions/<int:suggestion_id>/outcome": ("uhooo", "write"),
    "GET /api/v1/suggestions/versions": ("ufffo", "admin"),
    "POST /api/v1/suggestions/versions": ("ufffo", "admin"),
    "GET /api/v1/articles": ("uoooo", "read"),
    "POST /api/v1/articles": ("ufffo", "admin"),
    "GET /api/v1/articles/<int:article_id>": ("uoooo", "read"),
    "PATCH /api/v1/articles/<int:article_id>": ("ufffo", "admin"),
    "DELETE /api/v1/articles/<int:article_id>": ("ufffo", "admin"),
    "GET /api/v1/macros": ("uoooo", "read"),
    "POST /api/v1/macros": ("uoooo", "write"),
    "GET /api/v1/macros/<int:macro_id>": ("uhooo", "read"),  # a team macro: its queue's agents
    "PATCH /api/v1/macros/<int:macro_id>": ("uhfoo", "write"),  # a team macro: supervisors and admins edit it
    "DELETE /api/v1/macros/<int:macro_id>": ("uhfoo", "write"),  # hidden outside its queue
    "POST /api/v1/macros/<int:macro_id>/preview": ("uhooo", "write"),
    "GET /api/v1/macros/export": ("ufffo", "admin"),
    "POST /api/v1/macros/import": ("ufffo", "admin"),
    "GET /api/v1/bulk": ("uoooo", "read"),
    "POST /api/v1/bulk": ("uoooo", "write"),
    "POST /api/v1/bulk/dry-run": ("uoooo", "write"),
    "GET /api/v1/bulk/<int:bulk_id>": ("uhoho", "read"),  # agent_in's: its owner and admins
    "GET /api/v1/bulk/<int:bulk_id>/items": ("uhoho", "read"),
    "POST /api/v1/bulk/<int:bulk_id>/undo": ("uhoho", "write"),
    # Routing (admins), SLA calendars (admins), supervision.
    "GET /api/v1/rules": ("uffoo", "read"),
    "POST /api/v1/rules": ("ufffo", "admin"),
    "GET /api/v1/rules/<int:rule_id>": ("uffoo", "read"),
    "PATCH /api/v1/rules/<int:rule_id>": ("ufffo", "admin"),
    "DELETE /api/v1/rules/<int:rule_id>": ("ufffo", "admin"),
    "POST /api/v1/rules/reorder": ("ufffo", "admin"),
    "GET /api/v1/routing/accuracy": ("uffoo", "read"),
    "GET /api/v1/routing/models": ("uffoo", "read"),
    "POST /api/v1/routing/models/<version>/promote": ("ufffh", "admin"),  # no such version
    "POST /api/v1/routing/replay": ("uffoo", "write"),
    "GET /api/v1/routing/priority-weights": ("uffoo", "read"),
    "PUT /api/v1/routing/priority-weights": ("ufffo", "admin"),
    "POST /api/v1/routing/priority-weights/preview": ("uffoo", "write"),
    "POST /api/v1/routing/retrain": ("ufffo", "admin"),
    "POST /api/v1/routing/train": ("ufffo", "admin"),
    "POST /api/v1/routing/rollback": ("ufffo", "admin"),
    "GET /api/v1/calendars": ("uffoo", "read"),
    "POST /api/v1/calendars": ("ufffo", "admin"),
    "GET /api/v1/calendars/<int:calendar_id>": ("uffoo", "read"),
    "PATCH /api/v1/calendars/<int:calendar_id>": ("ufffo", "admin"),
    "DELETE /api/v1/calendars/<int:calendar_id>": ("ufffo", "admin"),
    "POST /api/v1/calendars/<int:calendar_id>/import": ("ufffo", "admin"),
    "GET /api/v1/dashboard": ("uffoo", "read"),
    "GET /api/v1/dashboard/conversations": ("uffoo", "read"),
    "GET /api/v1/dashboard/export": ("uffoo", "read"),
    "GET /api/v1/incidents": ("uffoo", "read"),
    "POST /api/v1/incidents": ("uffoo", "write"),
    "GET /api/v1/incidents/<int:incident_id>": ("uffoo", "read"),
    "PATCH /api/v1/incidents/<int:incident_id>": ("uffoo", "write"),
    "POST /api/v1/incidents/<int:incident_id>/resolve": ("uffoo", "write"),
    "GET /api/v1/qa/averages": ("uffoo", "read"),
    "GET /api/v1/qa/reviews": ("uoooo", "read"),  # agents see the reviews of their own replies
    "POST /api/v1/qa/reviews": ("uffoo", "write"),
    "PATCH /api/v1/qa/reviews/<int:review_id>": ("uffoo", "write"),
    "GET /api/v1/qa/sample": ("uffoo", "read"),
    # Automations (admins); a conversation's firings, as the conversation.
    "GET /api/v1/automations": ("ufffo", "admin"),
    "POST /api/v1/automations": ("ufffo", "admin"),
    "POST /api/v1/automations/dry-run": ("ufffo", "admin"),
    "GET /api/v1/automations/<int:automation_id>": ("ufffo", "admin"),
    "PATCH /api/v1/automations/<int:automation_id>": ("ufffo", "admin"),
    "DELETE /api/v1/automations/<int:automation_id>": ("ufffo", "admin"),
    "GET /api/v1/automations/<int:automation_id>/firings": ("ufffo", "admin"),
    "GET /api/v1/conversations/<int:conversation_id>/automations": ("uhooo", "read"),
    # Satisfaction: a conversation's answer (as the conversation), the figures (supervisors); the public survey
    # (a link that names nothing is a 404 to anyone).
    "GET /api/v1/conversations/<int:conversation_id>/satisfaction": ("uhooo", "read"),
    "GET /api/v1/satisfaction": ("uffoo", "read"),
    "GET /survey/<token>": ("hhhhh", None),
    "POST /survey/<token>": ("hhhhh", None),
    # Outbound event subscriptions (admins).
    "GET /api/v1/subscriptions": ("ufffo", "admin"),
    "POST /api/v1/subscriptions": ("ufffo", "admin"),
    "GET /api/v1/subscriptions/<int:subscription_id>": ("ufffo", "admin"),
    "PATCH /api/v1/subscriptions/<int:subscription_id>": ("ufffo", "admin"),
    "DELETE /api/v1/subscriptions/<int:subscription_id>": ("ufffo", "admin"),
    "POST /api/v1/subscriptions/<int:subscription_id>/test": ("ufffo", "admin"),
    "GET /api/v1/subscriptions/<int:subscription_id>/deliveries": ("ufffo", "admin"),
    # The audit log (admins).
    "GET /api/v1/audit": ("ufffo", "admin"),
    # Telling engineering: the incident webhook, incident tickets, the weekly report's mail (admins).
    "GET /api/v1/alerts/settings": ("ufffo", "admin"),
    "PATCH /api/v1/alerts/settings": ("ufffo", "admin"),
    # Saved views: each agent's own and their teams'; the world's is agent_in's, shared with billing (whose
    # agents see it; supervisors and admins not in billing do not); only its owner changes or deletes it.
    "GET /api/v1/views": ("uoooo", "read"),
    "POST /api/v1/views": ("uoooo", "write"),
    "GET /api/v1/views/<int:view_id>": ("uhohh", "read"),
    "PATCH /api/v1/views/<int:view_id>": ("uhohh", "write"),
    "DELETE /api/v1/views/<int:view_id>": ("uhohh", "write"),
    "GET /api/v1/views/<int:view_id>/conversations": ("uhohh", "read"),
}

# Socket events: outcome per actor (u: connection refused; f: answered {"ok": false}; o: answered, not refused).
# The scope column: a token without it connects but is refused the event ("connect": read is needed to connect).
SOCKET_EVENTS = {
    "connect": ("uoooo", "read"),
    "watch_dashboard": ("uffoo", "read"),
    "view": ("ufooo", "read"),
    "typing": ("ufooo", "write"),
    "take_over": ("ufooo", "write"),
    "heartbeat": ("uoooo", "read"),
    "leave": ("uoooo", None),  # leaving what one does not view is a no-op
    "disconnect": ("uoooo", None),
}


# A valid body for the writes whose answer turns on whether the caller may see their target: the edge
# checks a body against the document first and answers 400 to anyone for an invalid one (which tells
# nothing), so an empty body would never reach the visibility check this matrix is about.
BODIES = {
    "POST /api/v1/notifications/read": {"all": True},
    "PATCH /api/v1/authors/<int:author_id>": {"tags": ["vip"]},
    "PATCH /api/v1/authors/<int:author_id>/notes/<int:note_id>": {"text": "edited"},
    "POST /api/v1/authors/<int:author_id>/notes": {"text": "a note"},
    "PATCH /api/v1/authors/<int:author_id>/fields": {"fields": {"plan": "pro"}},
    "POST /api/v1/conversations/<int:conversation_id>/merge": {"into": "<other_conversation_id>"},
    "POST /api/v1/conversations/merge": {"ids": ["<other_conversation_id>"], "into": "<conversation_id>"},
    "POST /api/v1/conversations/<int:conversation_id>/split": {"message_id": "<reply_id>"},
    "POST /api/v1/conversations/<int:conversation_id>/split-messages": {"message_ids": ["<reply_id>"]},
    "POST /api/v1/authors/<int:author_id>/links": {"other_author_id": "<other_author_id>"},
    "POST /api/v1/retention": {"days": 3650},
    "POST /api/v1/people/import": {"people": [{"email": "nobody@example.com", "fields": {"plan": "pro"}}]},
    "PATCH /api/v1/conversations/<int:conversation_id>": {"priority": "high"},
    "POST /api/v1/conversations/<int:conversation_id>/notes": {"text": "a note"},
    "POST /api/v1/conversations/<int:conversation_id>/replies": {"text": "a reply"},
    "POST /api/v1/conversations/<int:conversation_id>/forwards": {"to": ["courier@partner.example"]},
    "POST /api/v1/conversations": {"channel": "forum", "queue": "billing", "to": "dan@customer.example",
                                   "subject": "Hello", "text": "A new mail"},
    "PATCH /api/v1/macros/<int:macro_id>": {"name": "Thanks again"},
    "POST /api/v1/articles": {"title": "Refund policy"},
    "PATCH /api/v1/articles/<int:article_id>": {"title": "Refunds"},
    "POST /api/v1/conversations/<int:conversation_id>/suggestions/<int:suggestion_id>/outcome": {"outcome": "ignored"},
    "POST /api/v1/macros/<int:macro_id>/preview": {"conversation_id": "<conversation_id>"},
}
