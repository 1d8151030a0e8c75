"""Checked query parameters."""

from flask import current_app, request

from workspace.errors import ValidationError


def page_size() -> int:
    """Return the `limit` parameter, bounded by the API's maximum page size."""
    raw = request.args.get("limit", str(current_app.config["API_PAGE_SIZE"]))
    if not raw.isdigit() or not 1 <= int(raw) <= current_app.config["API_MAX_PAGE_SIZE"]:
        raise ValidationError(
            f"limit: must be a whole number from 1 to {current_app.config['API_MAX_PAGE_SIZE']}",
            code="invalid_field")
    return int(raw)
