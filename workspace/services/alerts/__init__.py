"""Telling engineering: incidents posted to a Slack-compatible webhook (and a ticket each), the weekly report
mailed on a schedule, both configured by admins."""
