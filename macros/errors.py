"""The macros library's exceptions: each says what is wrong in words an agent can act on."""


class MacroError(ValueError):
    """A macro (its template or its actions) cannot be used as written."""


class TemplateError(MacroError):
    """A template does not compile, reaches for something it may not, or renders too much."""


class ActionError(MacroError):
    """An action list is malformed; the message names the action and field."""
