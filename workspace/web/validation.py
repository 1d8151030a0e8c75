"""Checks at the HTTP edge: query parameters and request bodies, each failure a 400 naming the field.

`invalid_field` is the code unless a check says otherwise.
"""

import json
import math
import re

import jsonschema
from flask import current_app, g, request
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


class DocumentedRequests:
    """Check each API request against its operation in the OpenAPI document: the one declaration of
    what a query parameter or JSON body may hold, so the document and the checks cannot drift apart.

    Query parameters: each at most once, required ones present, each value of its declared type and
    within its schema (an empty value counts as absent where `allowEmptyValue` says so). JSON bodies:
    the declared schema. A failure is a 400 naming the field; services still check what a schema
    cannot say (a slug that names nothing, a template that does not compile).
    """

    def __init__(self, document: dict):
        self.document = document
        self._validators: dict[tuple[str, str], tuple | None] = {}

    def check(self) -> None:
        """Refuse the current request if it breaks its operation's declaration (once authorised: web.auth)."""
        if request.url_rule is None:
            return
        key = (request.url_rule.rule, request.method.lower())
        declaration = self.declaration(*key)
        if declaration is not None:
            parameters, body = declaration
            for name, parameter, validator in parameters:
                _check_query(name, parameter, validator)
            if body is not None:
                _check_body(*body)

    def declaration(self, rule: str, method: str) -> tuple | None:
        """The compiled checks of a route's operation (built once): query parameters and body, or None."""
        if (rule, method) not in self._validators:
            self._validators[(rule, method)] = self._compile(rule, method)
        return self._validators[(rule, method)]

    def _compile(self, rule: str, method: str) -> tuple | None:
        operation = self.document["paths"].get(_openapi_path(rule), {}).get(method)
        if operation is None:
            return None
        parameters = [(p["name"], p, self._validator(p.get("schema", {})))
                      for p in operation.get("parameters", []) if p["in"] == "query"]
        declared = operation.get("requestBody") or {}
        content = declared.get("content", {})
        schema = content.get("application/json", {}).get("schema")
        # An operation that also takes another media type (an iCalendar file) checks JSON bodies only.
        body = None if schema is None else (self._validator(schema), declared.get("required", False),
                                            len(content) == 1)
        return parameters, body

    def _validator(self, schema: dict) -> jsonschema.Draft202012Validator:
        """A validator of this schema, its $refs inlined (resolving a $ref on every use is slow)."""
        return jsonschema.Draft202012Validator(self._inline(schema, ()),
                                               format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)

    def _inline(self, schema, seen: tuple):
        """The schema with every `#/components/schemas/...` $ref replaced by what it names."""
        if isinstance(schema, list):
            return [self._inline(item, seen) for item in schema]
        if not isinstance(schema, dict):
            return schema
        inlined = {key: self._inline(value, seen) for key, value in schema.items() if key != "$ref"}
        if "$ref" in schema:
            name = schema["$ref"].removeprefix("#/components/schemas/")
            if name in seen:
                raise ValueError(f"{name}: a request schema may not refer to itself")
            return {**self._inline(self.document["components"]["schemas"][name], (*seen, name)), **inlined}
        return inlined


def check_documented_request() -> None:
    """Check the current request against the app's OpenAPI document (once per request, if it has one)."""
    checker = current_app.extensions.get("documented_requests")
    if checker is not None and not g.get("documented_request_checked"):
        g.documented_request_checked = True
        checker.check()


def _openapi_path(rule: str) -> str:
    """The OpenAPI path of a werkzeug rule: /rules/<int:rule_id> is /rules/{rule_id}."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _check_query(name: str, parameter: dict, validator) -> None:
    values = request.args.getlist(name)
    if len(values) > 1:
        raise ValidationError(f"{name}: give it once", code="invalid_field")
    if not values or (values[0] == "" and parameter.get("allowEmptyValue")):
        if parameter.get("required"):
            raise ValidationError(f"{name}: is required", code="invalid_field")
        return
    value = _wire_value(values[0], parameter.get("schema", {}))
    _refuse_first_error(validator, value, name)


def _wire_value(raw: str, schema: dict):
    """A query string value as the type its schema declares (left a string when it is not one)."""
    kinds = [option.get("type") for option in (schema, *schema.get("anyOf", ()), *schema.get("oneOf", ()))]
    kinds = [kind for option in kinds for kind in ([option] if isinstance(option, str) else option or [])]
    if "integer" in kinds and re.fullmatch(r"-?[0-9]{1,19}", raw):
        return int(raw)
    if "boolean" in kinds and raw in ("true", "false"):
        return raw == "true"
    return raw


def _check_body(validator, required: bool, json_only: bool) -> None:
    if not json_only and request.mimetype != "application/json":
        return
    if not request.get_data(cache=True):
        if required:
            raise ValidationError("body: a JSON body is required", code="invalid_field")
        return
    body = request.get_json(silent=True)
    if body is None:
        raise ValidationError("body: must be JSON (Content-Type: application/json)", code="invalid_field")
    try:
        _refuse_first_error(validator, body, "")
    except RecursionError:
        raise ValidationError("body: nested too deeply", code="invalid_json") from None


# Keywords that say only "none of the forms fit": an error under them, or another at a field, says more.
_VAGUE = {"anyOf", "oneOf", "allOf", "if", "not"}


def _refuse_first_error(validator, value, where: str) -> None:
    """Raise a ValidationError for the most telling error: a plain one before a vague one, outer fields first."""
    error = min(validator.iter_errors(value), default=None,
                key=lambda e: (e.validator in _VAGUE, len(e.path), list(map(str, e.path))))
    if error is not None:
        raise ValidationError(_describe(error, where), code="invalid_field")


def _describe(error, where: str) -> str:
    """`field: what is wrong`, short: never the value itself, which may be long or hostile."""
    path = where
    for step in error.absolute_path:
        path += f"[{step}]" if isinstance(step, int) else f"{'.' if path else ''}{step}"
    keyword, expected = error.validator, error.validator_value
    if keyword in _VAGUE | {"required"} and "x-error" in error.schema:  # the document's own words for it
        return error.schema["x-error"]
    if keyword == "required":
        missing = next((name for name in expected if name not in (error.instance or {})), expected[0])
        return f"{path + '.' if path else ''}{missing}: is required"
    if keyword == "additionalProperties":
        allowed = ", ".join(error.schema.get("properties", {}))
        extra = next((k for k in error.instance if k not in error.schema.get("properties", {})), "")
        return f"{path + '.' if path else ''}{extra[:40]}: unknown field (fields: {allowed})"
    reasons = {
        "type": lambda: f"must be {' or '.join(expected) if isinstance(expected, list) else expected}",
        "enum": lambda: f"one of {', '.join(map(str, expected))}",
        "const": lambda: f"must be {expected}",
        "minLength": lambda: f"at least {expected} characters",
        "maxLength": lambda: f"at most {expected} characters",
        "minimum": lambda: f"at least {expected}", "maximum": lambda: f"at most {expected}",
        "minItems": lambda: f"at least {expected} items", "maxItems": lambda: f"at most {expected} items",
        "uniqueItems": lambda: "items must not repeat", "minProperties": lambda: f"at least {expected} fields",
        "maxProperties": lambda: f"at most {expected} fields",
        "pattern": lambda: error.schema.get("x-pattern", "not in the expected form"),
        "format": lambda: f"must be a {expected}",
    }
    reason = reasons.get(keyword, lambda: "not an allowed value (see the API document)")()
    return f"{path or 'body'}: {reason}"
