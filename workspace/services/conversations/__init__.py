"""Conversations: agents' changes, replies and notes, get-next, reading queues, counts and delivery."""
