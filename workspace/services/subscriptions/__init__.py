"""Outbound events: admins subscribe outside URLs to events, delivered signed with retries and a log."""
