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


def whole_number(name: str, default: int | None = None, *, low: int | None = None,
                 high: int | None = None) -> int | None:
    """Return the query parameter `name` as a whole number (from low to high, when given), or the default."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or low is not None and not low <= int(raw) <= high:
        bounds = f" from {low} to {high}" if low is not None else ""
        raise ValidationError(f"{name}: must be a whole number{bounds}", code="invalid_field")
    return int(raw)


def page_size() -> int:
    """Return the `limit` parameter, bounded by the API's maximum page size."""
    config = current_app.config
    return whole_number("limit", config["API_PAGE_SIZE"], low=1, high=config["API_MAX_PAGE_SIZE"])
