"""Responses: macros (who may use them, search, preview, apply) and bulk actions."""
