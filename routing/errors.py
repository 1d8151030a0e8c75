"""Exceptions raised by the routing library."""


class RuleError(ValueError):
    """A rule that cannot compile; the message says why, in words an admin understands."""


class ModelError(Exception):
    """A model artifact that cannot be trusted or loaded, or a model that cannot be trained."""
