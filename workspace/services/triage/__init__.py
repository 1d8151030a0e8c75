"""Triage: applying routing decisions, managing rules, what-if replay and the classifier's lifecycle."""
