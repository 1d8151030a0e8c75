"""Checks at the HTTP edge: query parameters and request bodies, each failure a 400 naming the field.

`invalid_field` is the code unless a check says otherwise.
"""

from flask import current_app, request

from workspace.errors import ValidationError


def json_object(*, optional: bool = False) -> dict:
    """Return the request's JSON body, which must be an object (or absent, when optional: then {})."""
    body = request.get_json(silent=True)
    if body is None and optional and not request.get_data():
        return {}
    if not isinstance(body, dict):
        raise ValidationError("body: must be a JSON object", code="invalid_field")
    return body


def page_size() -> int:
    """Return the `limit` parameter, bounded by the API's maximum page size."""
    raw = request.args.get("limit", str(current_app.config["API_PAGE_SIZE"]))
    if not raw.isdigit() or not 1 <= int(raw) <= current_app.config["API_MAX_PAGE_SIZE"]:
        raise ValidationError(
            f"limit: must be a whole number from 1 to {current_app.config['API_MAX_PAGE_SIZE']}",
            code="invalid_field")
    return int(raw)
