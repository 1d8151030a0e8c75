"""Switchboard macros: sandboxed reply templates and validated action lists (no Flask here).

The workspace applies actions to conversations (workspace/services/macros.py);
this library only renders, measures and validates, on plain data.
"""

from macros.actions import PARSERS, SENDING, Action, describe, parse_actions, parse_time
from macros.errors import ActionError, MacroError, TemplateError
from macros.limits import reply_fits, reply_length, reply_limit
from macros.rendering import check_template, render

__all__ = [
    "PARSERS",
    "SENDING",
    "Action",
    "ActionError",
    "MacroError",
    "TemplateError",
    "check_template",
    "describe",
    "parse_actions",
    "parse_time",
    "render",
    "reply_fits",
    "reply_length",
    "reply_limit",
]
