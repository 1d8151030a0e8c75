"""Webhook endpoints: posts from channels and ticket status changes from the ticketing system."""
