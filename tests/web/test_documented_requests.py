"""The API checks each request against its operation in the OpenAPI document: one declaration, one 400 shape."""

import pytest

from workspace.web.validation import DocumentedRequests


@pytest.fixture
def admin(client, token, channel):
    """Call the API as the admin: admin('post', '/rules', json=...)."""

    def call(method, path, **kwargs):
        return getattr(client, method)(f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, **kwargs)

    return call


def _refused(response, message: str) -> bool:
    error = response.get_json()["error"]
    return response.status_code == 400 and error["code"] == "invalid_field" and error["message"] == message


def test_every_api_route_has_a_declaration_that_compiles(app):
    """Each route of the API has its operation in the document, and its schemas (with their $refs) build."""
    checker = app.extensions["documented_requests"]
    assert isinstance(checker, DocumentedRequests)
    undocumented = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                declaration = checker.declaration(rule.rule, method.lower())
                if declaration is None:
                    undocumented.append(f"{method} {rule.rule}")
                    continue
                parameters, body = declaration
                for validator in [validator for _, _, validator in parameters] + ([body[0]] if body else []):
                    validator.is_valid({})  # resolves the $ref: a broken one raises here, not in a request
    assert undocumented == []


@pytest.mark.parametrize("method,path,body,message", [
    ("post", "/bulk/dry-run", {"kind": {}}, "kind: one of macro, reply, assign, tags, move, status"),
    ("post", "/rules", {"name": "x", "conditions": {"keyword": "a"}, "actions": {}, "colour": "red"},
     "colour: unknown field (fields: name, enabled, conditions, actions, position)"),
    ("post", "/queues", {"slug": "ok", "sla_minutes": {"urgent": "soon"}}, "sla_minutes.urgent: must be integer"),
    ("post", "/macros/import", {"macros": [{"name": "A", "scope": "global", "actions": [{"type": 5}]}]},
     "macros[0].actions[0].type: one of reply, note, add_tags, remove_tags, priority, move, assign, status, "
     "snooze, tag_customer, escalate"),
    ("post", "/agents", {"name": "No email"}, "email: is required"),
    ("patch", "/conversations/1", {}, "body: at least 1 fields"),
])
def test_a_body_that_breaks_its_schema_is_400_naming_the_field(admin, counts, method, path, body, message):
    """The wrong type, an unknown or missing field, each a 400 whose message starts with where it is."""
    before = counts()
    assert _refused(admin(method, path, json=body), message)
    assert counts() == before


@pytest.mark.parametrize("query,message", [
    ("weeks=1&weeks=2", "weeks: give it once"),
    ("weeks=53", "weeks: at most 52"),
    ("weeks=x", "weeks: must be integer"),
    ("weeks=99999999999999999999999", "weeks: must be integer"),
])
def test_a_query_parameter_that_breaks_its_schema_is_400_naming_it(admin, query, message):
    """Repeated, out of range or not a number: a 400 naming the parameter."""
    assert _refused(admin("get", f"/qa/averages?{query}"), message)


def test_an_empty_optional_number_means_its_default(admin):
    """`weeks=` is the default, as the document says (allowEmptyValue)."""
    assert admin("get", "/qa/averages?weeks=").status_code == 200


def test_a_required_query_parameter_is_named_when_missing(admin):
    """GET /search without q names q."""
    assert _refused(admin("get", "/search"), "q: is required")


def test_credentials_and_role_are_checked_before_the_body(client, token_for, channel):
    """Anonymous: 401; an agent on an admin operation: 403; only then the body's 400."""
    assert client.post("/api/v1/queues", json={"slug": 5}).status_code == 401
    agent = token_for("agent")
    response = client.post("/api/v1/queues", json={"slug": 5}, headers={"Authorization": f"Bearer {agent}"})
    assert response.status_code == 403


def test_a_body_the_document_allows_reaches_the_service(admin):
    """A valid body passes the edge: the queue is created."""
    response = admin("post", "/queues", json={"slug": "returns", "name": "Returns", "sla_minutes": {"urgent": 30}})
    assert response.status_code == 201 and response.get_json()["counts"]["open"] == 0


def test_an_ical_file_is_not_held_to_the_json_schema(admin):
    """An operation that also takes text/calendar checks only JSON bodies against the JSON schema."""
    calendar = admin("post", "/calendars", json={"name": "Office", "time_zone": "Europe/Paris",
                                                 "hours": {"mon": [["09:00", "17:00"]]}}).get_json()
    response = admin("post", f"/calendars/{calendar['id']}/import", data=b"not a calendar",
                     content_type="text/calendar")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_ical"
