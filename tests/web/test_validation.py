"""Hostile input at the HTTP edge: every such request is a 4xx that names what is wrong, never a 500."""

import json
import re

import pytest

from tests.factories import TICKETING_SECRET, make_config
from tests.payloads import BRAND_ID, X_CONSUMER_SECRET, encode, tweet, x_delivery, x_headers
from workspace import create_app
from workspace.extensions import db, socketio
from workspace.models import Channel
from workspace.services.escalation.signature import signed_headers
from workspace.web.api.openapi import DOCUMENT

MAX_ID = 2**31 - 1  # the largest id a row can have (INTEGER keys on PostgreSQL)

TOO_BIG = "99999999999999999999"  # past 64 bits: no database row can have it


@pytest.fixture
def admin(client, token, channel):
    """Call the API as the admin: admin('post', '/rules', json=...)."""

    def call(method, path, **kwargs):
        return getattr(client, method)(f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, **kwargs)

    return call


def _int_routes(app):
    """Every route of the URL map with an `<int:...>` part, as (rule, path with every id past 64 bits)."""
    for rule in app.url_map.iter_rules():
        ints = [name for name, converter in rule._converters.items() if converter.regex == r"\d+"]
        if ints:
            values = {name: TOO_BIG if name in ints else "x" for name in rule.arguments}
            yield rule, re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m, values=values: values[m.group(1)], rule.rule)


def test_an_id_beyond_64_bits_is_404_on_every_route_and_method(app, client, token, channel):
    """Rules, conversations, macros, queues, ...: an id no row can have is not found, by every method."""
    routes = list(_int_routes(app))
    assert len(routes) > 20  # the API's many `<int:...>` routes are all here
    headers = {"Authorization": f"Bearer {token}"}
    for rule, path in routes:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method, headers=headers, json={})
            assert response.status_code == 404, (method, path, response.status_code)
            assert response.get_json()["error"]["code"] == "not_found", (method, path)


@pytest.mark.parametrize("rule_id", [MAX_ID, MAX_ID + 1, 2**63 - 1, 2**63, 2**64, "9" * 5000])
def test_ids_past_what_a_key_holds_are_not_found(admin, rule_id):
    """The bound is the key column's (32 bits on PostgreSQL): on either side of it, a 404, never a 500."""
    for method in ("get", "patch", "delete"):
        response = admin(method, f"/rules/{rule_id}", json={})
        assert response.status_code == 404, method


def test_a_wrong_type_in_a_bulk_body_is_400_naming_the_field(admin, counts):
    """A kind that is an object, not one of the kinds, is refused as such."""
    before = counts()
    response = admin("post", "/bulk/dry-run", json={"kind": {}, "conversation_ids": [1]})
    assert response.status_code == 400
    assert response.get_json()["error"] == {"code": "invalid_field",
                                            "message": response.get_json()["error"]["message"]}
    assert response.get_json()["error"]["message"].startswith("kind:")
    assert counts() == before


@pytest.mark.parametrize("body", [[None, None], "billing", 7, {"queue": 7}, {"queue": ["billing"]}])
def test_next_conversation_takes_an_object_or_nothing(admin, body):
    """`[null, null]` (or any body not an object with a queue slug) is a 400, not a silent 'any queue'."""
    response = admin("post", "/conversations/next", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_field"


def test_the_document_says_next_conversation_can_answer_400():
    """Schemathesis checks each answer against the document: the new 400 is declared there."""
    assert "400" in DOCUMENT["paths"]["/api/v1/conversations/next"]["post"]["responses"]


def test_next_conversation_without_a_body_still_works(admin):
    """No body means any of your queues."""
    assert admin("post", "/conversations/next").status_code == 404  # nothing waiting, not malformed


@pytest.mark.parametrize("path", ["/rules", "/macros", "/bulk/dry-run", "/conversations/next", "/queues"])
def test_a_body_nested_100000_deep_is_400_with_the_reason(admin, path):
    """The JSON decoder's recursion limit is a client error that says so."""
    body = "[" * 100_000 + "]" * 100_000
    response = admin("post", path, data=body, content_type="application/json")
    assert response.status_code == 400
    assert "nested" in response.get_json()["error"]["message"]


def _nested_condition(depth: int) -> str:
    """A rule body whose conditions are `not` inside `not`, depth times, as raw JSON."""
    leaf = '{"keywords": ["refund"]}'
    conditions = '{"not": ' * depth + leaf + "}" * depth
    return ('{"name": "deep", "conditions": ' + conditions
            + ', "actions": {"queue": "billing"}}')


@pytest.mark.parametrize("depth", [5000, 600, 9])
def test_rule_conditions_nested_too_deep_are_400_with_the_reason(admin, counts, depth):
    """5,000 levels stop the JSON decoder, 600 or 9 the rule compiler: a 400 saying so, nothing stored."""
    before = counts()
    response = admin("post", "/rules", data=_nested_condition(depth), content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert "nested" in response.get_json()["error"]["message"] or "deep" in response.get_json()["error"]["message"]
    assert admin("get", "/rules").get_json()["data"] == []
    assert counts() == before


@pytest.mark.parametrize("template", [
    "{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}",  # 3,000 parentheses deep
    "{{ 'a'" + "|e" * 2000 + " }}",  # a filter chain of 2,000
    "{{ " + "[" * 300 + "]" * 300 + " }}",  # past Python's 200 nested brackets
])
def test_a_macro_template_nested_too_deep_is_400_with_the_reason(admin, template):
    """Jinja's parser recursing past the limit is the template's fault, and the answer says so."""
    response = admin("post", "/macros", json={"name": "deep", "scope": "global", "template": template,
                                              "actions": []})
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert "nested too deeply" in response.get_json()["error"]["message"]
    assert admin("get", "/macros").get_json()["data"] == []


@pytest.fixture
def x_conversation(app, client):
    """A conversation from a tweet on an X channel (280 characters a reply, every link 23)."""
    with app.app_context():
        db.session.add(Channel(slug="mentions", name="Mentions", kind="x",
                               settings={"consumer_secret": X_CONSUMER_SECRET, "user_id": BRAND_ID}))
        db.session.commit()
    body = encode(x_delivery(tweet(1)))
    response = client.post("/webhooks/mentions", data=body, headers=x_headers(body))
    assert response.status_code == 202
    return response.get_json()["conversation_id"]


def test_a_single_reply_longer_than_x_allows_is_400(admin, counts, x_conversation):
    """281 characters, or 260 plus a short link (which X counts as 23), do not fit a tweet: 400, nothing stored."""
    before = counts()
    for text in ("x" * 281, "x" * 260 + " https://ex.co/a"):
        response = admin("post", f"/conversations/{x_conversation}/replies", json={"text": text})
        assert response.status_code == 400, response.get_json()
        error = response.get_json()["error"]
        assert error["code"] == "reply_too_long"
        assert error["message"].startswith("text: the reply is") and "280" in error["message"]
    assert counts() == before


def test_a_reply_that_fits_x_is_sent(admin, x_conversation):
    """280 characters, or a long link counted as 23, fit."""
    assert admin("post", f"/conversations/{x_conversation}/replies", json={"text": "x" * 280}).status_code == 201
    long_link = "x" * 200 + " https://example.com/" + "a" * 200
    assert admin("post", f"/conversations/{x_conversation}/replies", json={"text": long_link}).status_code == 201


@pytest.mark.parametrize("query", ["agent_id=80240348171557777965056", "agent_id=" + "9" * 5000, "agent_id=%C2%B2",
                                   "agent_id=-1", "limit=0"])
def test_query_numbers_past_an_id_or_not_ascii_digits_are_400(admin, query):
    """A query number is bounded (at most an id's range): Schemathesis found agent_id past 64 bits gave 500."""
    response = admin("get", f"/qa/sample?{query}")
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["message"].startswith(query.split("=")[0] + ":")


@pytest.mark.parametrize("method, path, body, field", [
    ("post", "/incidents", {"title": "Outage", "add_conversations": [2**63]}, "add_conversations[0]"),
    ("post", "/bulk/dry-run", {"kind": "status", "status": "resolved", "conversation_ids": [2**64]},
     "conversation_ids[0]"),
    ("post", "/bulk/dry-run", {"kind": "macro", "macro_id": 10**30, "conversation_ids": [1]}, "macro_id"),
    ("post", "/bulk/dry-run", {"kind": "status", "status": "open", "incident_id": -2**70}, "incident_id"),
])
def test_ids_in_bodies_past_a_key_are_400_naming_the_field(admin, counts, method, path, body, field):
    """Ids inside bodies get the same bound as ids in paths: a 400 that names the field, nothing stored."""
    before = counts()
    response = admin(method, path, json=body)
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["message"].startswith(field + ":")
    assert counts() == before


def test_an_assignee_or_preview_id_past_a_key_is_400(admin, x_conversation):
    """PATCH assignee and a macro preview's conversation_id, far past 64 bits."""
    response = admin("patch", f"/conversations/{x_conversation}", json={"assignee": 2**80})
    assert response.status_code == 400 and response.get_json()["error"]["message"].startswith("assignee:")
    macro = admin("post", "/macros", json={"name": "Hi", "scope": "global", "template": "Hi", "actions": []})
    assert macro.status_code == 201, macro.get_json()
    preview = admin("post", f"/macros/{macro.get_json()['id']}/preview", json={"conversation_id": 2**80})
    assert preview.status_code == 400 and preview.get_json()["error"]["message"].startswith("conversation_id:")


@pytest.mark.parametrize("number, reason", [("1e999", "too large"), ("-1e999", "too large"), ("NaN", "NaN"),
                                            ("Infinity", "Infinity"), ("9" * 5000, "too many digits")])
@pytest.mark.parametrize("path", ["/rules", "/macros", "/queues", "/bulk/dry-run"])
def test_numbers_python_cannot_hold_in_a_body_are_400_with_the_reason(admin, counts, path, number, reason):
    """Decoded by the app's one JSON provider: nothing a database cannot store gets past the edge."""
    before = counts()
    body = '{"name": "n", "slug": "n", "kind": "status", "extra": ' + number + "}"
    response = admin("post", path, data=body, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert reason in response.get_json()["error"]["message"]
    assert counts() == before


@pytest.mark.parametrize("path, body", [
    ("/rules", '{"name": "bad \\ud800", "conditions": {"keywords": ["x"]}, "actions": {"queue": "billing"}}'),
    ("/macros", '{"name": "bad \\udfff name", "scope": "global", "template": "Hi", "actions": []}'),
])
def test_a_lone_surrogate_in_an_api_body_is_400_naming_the_field(admin, path, body):
    """The same refusal as webhooks: a string no database can store as UTF-8 is named, not stored."""
    response = admin("post", path, data=body, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["message"].startswith("name:")


@pytest.fixture
def socket_app(app):
    """The same app's database and Redis, without the Socket.IO message queue (the test client's limit)."""
    config = {key: app.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "REDIS_URL", "RQ_QUEUE", "MODEL_DIR")}
    return create_app(make_config(SOCKETIO_MESSAGE_QUEUE=None, **config))


def test_a_socket_event_naming_a_conversation_past_a_key_is_refused(socket_app, token, x_conversation):
    """`view` with a conversation id past 64 bits answers ok: false, as for one the agent may not see."""
    client = socketio.test_client(socket_app, auth={"token": token})
    assert client.is_connected()
    assert client.emit("view", {"conversation_id": 2**80}, callback=True) == {"ok": False}
    assert client.emit("view", {"conversation_id": x_conversation}, callback=True) == {"ok": True}
    client.disconnect()


@pytest.mark.parametrize("ticket_id", ["9" * 5000, "\u00b2", 2**63, "0"])
def test_a_ticket_status_webhook_with_an_impossible_ticket_number_is_400(app, client, ticket_id):
    """The ticketing system's webhook: a number of thousands of digits, or '²', is not a ticket number."""
    app.config.update(TICKETING_WEBHOOK_SECRET=TICKETING_SECRET)
    body = json.dumps({"ticket": {"id": ticket_id, "status": "solved"}}).encode()
    response = client.post("/webhooks/ticketing/status", data=body,
                           headers={"Content-Type": "application/json", **signed_headers(TICKETING_SECRET, body)})
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["message"].startswith("ticket.id:")


def test_a_qa_review_of_a_message_past_a_key_is_400(admin):
    """POST /qa/reviews with message_id past 32 bits overflowed PostgreSQL's INTEGER (Schemathesis found it)."""
    response = admin("post", "/qa/reviews", json={"message_id": 2**40, "accuracy": 3, "tone": 3, "resolution": 3})
    assert response.status_code == 400 and response.get_json()["error"]["message"].startswith("message_id:")
