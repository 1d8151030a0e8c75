"""Checks at the HTTP edge: query parameters and request bodies, each failure a 400 naming the field.

`invalid_field` is the code unless a check says otherwise.
"""

import json
import math

from flask import current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import NotFound, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from workspace.errors import ValidationError
from workspace.models import MAX_ID


class DatabaseId(IntegerConverter):
    """`<int:...>` in every route: an id past what a key column holds names no row, so it is not found (404)."""

    def to_python(self, value: str) -> int:
        """Return the id, or answer 404 for one no database row can have."""
        # Not werkzeug's ValidationError: that becomes 405 wherever another method shares the path.
        # The length first: int() refuses (ValueError) past 4,300 digits.
        if len(value) > len(str(MAX_ID)) or super().to_python(value) > MAX_ID:
            raise NotFound(f"no such id: ids are at most {MAX_ID}")
        return super().to_python(value)


class StrictJSONProvider(DefaultJSONProvider):
    """The app's JSON: a body decodes strictly, and what Python cannot hold is a 400 saying why, not a crash.

    NaN and Infinity are not JSON; 1e999 decodes to infinity, which no database stores (PostgreSQL's
    jsonb refuses it); past Python's 4,300 digits an integer does not convert; past the decoder's
    recursion limit a body does not decode; an escaped lone surrogate cannot be stored as UTF-8.
    """

    def loads(self, s, **kwargs):
        """Decode JSON as `json.loads` does, refusing what cannot be stored with a ValidationError."""
        kwargs.setdefault("parse_constant", refuse_constant)
        kwargs.setdefault("parse_float", finite_number)
        try:
            value = json.loads(s, **kwargs)
        except json.JSONDecodeError:
            raise  # malformed: get_json(silent=True) gives None and the caller names what it wanted
        except RecursionError:
            raise ValidationError("body: nested too deeply to decode", code="invalid_json") from None
        except ValueError as error:  # Python's limit on digits in an integer
            raise ValidationError(f"body: a number has too many digits ({str(error).split(';')[0]})",
                                  code="invalid_json") from None
        refuse_lone_surrogates(s, value)
        return value


def refuse_constant(name: str):
    """Refuse NaN, Infinity and -Infinity, which JSON does not have (Python's decoder takes them)."""
    raise ValidationError(f"body is not valid JSON: {name} is not allowed", code="invalid_json")


def finite_number(literal: str) -> float:
    """Decode a JSON number with a fraction or exponent; one too large for a float (1e999) is refused."""
    number = float(literal)
    if math.isinf(number):
        raise ValidationError(f"body: the number {literal[:40]} is too large to store", code="invalid_json")
    return number


def refuse_lone_surrogates(text: str | bytes, value) -> None:
    """Refuse a decoded body with a string (or key) no database stores as UTF-8, naming where it is.

    A valid UTF-8 body holds no surrogates, so only an escape (\\ud800) can make a lone one: the
    walk runs only when the text has such an escape.
    """
    marks = (b"\\ud", b"\\uD") if isinstance(text, bytes) else ("\\ud", "\\uD")
    if marks[0] in text or marks[1] in text:
        try:
            _walk_strings(value, "")
        except RecursionError:
            raise ValidationError("body: nested too deeply", code="invalid_json") from None


def _walk_strings(value, path: str) -> None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(f"{path or 'body'}: must be valid Unicode text (a lone surrogate escape)",
                                  code="invalid_field") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk_strings(key, path or "body")
            _walk_strings(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk_strings(item, f"{path}[{index}]")


def whole_body() -> bytes:
    """Return the raw body; past MAX_CONTENT_LENGTH a 413, with or without a Content-Length."""
    body = request.get_data(cache=False)  # raises 413 when the Content-Length says too much
    limit = request.max_content_length
    # A chunked body (no Content-Length) is cut at the limit without a word; one more byte tells it was.
    if request.content_length is None and limit is not None and len(body) >= limit \
            and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge(f"the body is over {limit} bytes")
    return body


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
    """Return the query parameter `name` as a whole number from low to high (else 0 to MAX_ID), or the default."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    low, high = 0 if low is None else low, MAX_ID if high is None else high  # unbounded: an id's range at most
    # isascii: str.isdigit() also takes '²' and other digits int() refuses; the length keeps int() cheap.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12) or not low <= int(raw) <= high:
        raise ValidationError(f"{name}: must be a whole number from {low} to {high}", code="invalid_field")
    return int(raw)


def page_size() -> int:
    """Return the `limit` parameter, bounded by the API's maximum page size."""
    config = current_app.config
    return whole_number("limit", config["API_PAGE_SIZE"], low=1, high=config["API_MAX_PAGE_SIZE"])
