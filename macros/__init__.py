"""Switchboard macros: sandboxed reply templates and validated action lists (no Flask here).

The workspace applies actions to conversations (workspace/services/responses/);
this library only renders and validates, on plain data.
"""

from macros.actions import PARSERS, SENDING, Action, describe, parse_actions, parse_time
from macros.errors import ActionError, MacroError, TemplateError
from macros.rendering import check_template, referenced_articles, render

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
    "referenced_articles",
    "render",
]
