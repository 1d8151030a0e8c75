"""Automations: conditions on a conversation's state over time, the actions they take, and their firings."""
