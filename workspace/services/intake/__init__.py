"""Intake: storing inbound posts (dedupe, authors, threading, outbox) and the group commit."""
