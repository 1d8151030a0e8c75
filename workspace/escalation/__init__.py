"""Escalation to a ticketing system: a Zendesk Tickets API client, webhook signatures, and the stub.

The client speaks the Zendesk subset Switchboard needs, so a real Zendesk is a
configuration change; `stub` is a small Zendesk-compatible service of its own
(its own app, port and storage) for demos and tests.
"""
