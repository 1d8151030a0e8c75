"""Escalation to a ticketing system: tickets, the Zendesk Tickets API client and webhook signatures.

The client speaks the Zendesk subset Switchboard needs, so a real Zendesk is a
configuration change; the stub in `ticketing_stub/` is a small Zendesk-compatible
service of its own (its own app, port and storage) for demos and tests.
"""
