"""Service levels: SLA clocks on conversations, and the policies and calendars admins manage."""
