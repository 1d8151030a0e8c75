"""The REST API: token auth, queue order and cursors, detail views, one error shape, OpenAPI."""

from datetime import UTC, datetime, timedelta

import jsonschema
import pytest
import sqlalchemy as sa

from tests.factories import make_post
from workspace.extensions import db
from workspace.jobs.dispatch import dispatch_once
from workspace.models import Conversation, Priority
from workspace.web.api.openapi import DOCUMENT


def validate(instance, schema_name: str) -> None:
    """Check a response body against a schema of the served OpenAPI document."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": DOCUMENT["components"]}
    jsonschema.validate(instance, schema)


def route_all(app, run_jobs) -> None:
    with app.app_context():
        while dispatch_once(500):
            pass
    run_jobs()


@pytest.fixture
def routed_posts(app, deliver, run_jobs):
    """Five posts routed into billing with known priorities and ages."""
    start = datetime.now(UTC) - timedelta(hours=1)
    ids = []
    for number in range(5):
        author = {"id": f"a{number}", "handle": f"h{number}"}
        response = deliver(make_post(text=f"@billing question {number}", author=author,
                                     created_at=(start + timedelta(minutes=number)).isoformat()))
        ids.append(response.get_json()["conversation_id"])
    route_all(app, run_jobs)
    with app.app_context():  # make the priorities known: #3 urgent, #1 high, the rest normal
        for conversation_id, level in ((ids[3], Priority.URGENT), (ids[1], Priority.HIGH)):
            db.session.get(Conversation, conversation_id).priority = level
        for conversation_id in (ids[0], ids[2], ids[4]):
            db.session.get(Conversation, conversation_id).priority = Priority.NORMAL
        db.session.commit()
    return ids


def test_api_requires_a_valid_token(client, token):
    """No token, a malformed header or an unknown token is a 401 in the error envelope."""
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer nope"}):
        response = client.get("/api/v1/queues", headers=headers)
        assert response.status_code == 401
        validate(response.get_json(), "Error")


def test_queues_list_with_live_counts(api, routed_posts):
    """Each queue reports its open and unassigned counts."""
    body = api("/queues").get_json()
    for queue in body["data"]:
        validate(queue, "Queue")
    counts = {queue["slug"]: queue["counts"] for queue in body["data"]}
    assert counts["billing"] == {"open": 5, "unassigned": 5, "pending": 0, "at_risk": 0}
    assert counts["triage"]["open"] == 0


def test_queue_lists_in_priority_then_due_then_age_order(api, routed_posts):
    """Urgent first, then high, then normal by SLA due time (oldest first)."""
    ids = routed_posts
    body = api("/queues/billing/conversations").get_json()
    assert [c["id"] for c in body["data"]] == [ids[3], ids[1], ids[0], ids[2], ids[4]]
    assert body["next_cursor"] is None
    for conversation in body["data"]:
        validate(conversation, "Conversation")


def test_cursor_pagination_walks_the_whole_queue_once(api, routed_posts):
    """Pages of two follow each other without gaps or repeats."""
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = api("/queues/billing/conversations", query_string=query).get_json()
        seen += [c["id"] for c in body["data"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    ids = routed_posts
    assert seen == [ids[3], ids[1], ids[0], ids[2], ids[4]]


@pytest.mark.parametrize("query,field", [
    ({"cursor": "garbage!"}, "cursor"), ({"limit": "0"}, "limit"), ({"limit": "x"}, "limit"),
    ({"status": "bogus"}, "status"),
])
def test_bad_list_parameters_are_400(api, routed_posts, query, field):
    """A bad cursor, limit or status is a 400 naming the parameter."""
    response = api("/queues/billing/conversations", query_string=query)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].startswith(field)


def test_conversation_detail_has_messages_author_and_explanation(api, routed_posts):
    """One conversation shows its thread, its customer and why it was routed where it is."""
    body = api(f"/conversations/{routed_posts[0]}").get_json()
    validate(body, "ConversationDetail")
    assert body["messages"][0]["text"] == "@billing question 0"
    assert body["author"]["handle"] == "h0"
    assert body["explanation"]["queue_reason"]
    assert body["queue"] == "billing"


def test_author_detail_lists_their_history(api, deliver, app, run_jobs):
    """An author's page lists every conversation they have had, newest first."""
    first = deliver(make_post(thread_id="one")).get_json()["conversation_id"]
    second = deliver(make_post(thread_id="two")).get_json()["conversation_id"]
    route_all(app, run_jobs)
    author_id = api(f"/conversations/{first}").get_json()["author"]["id"]
    body = api(f"/authors/{author_id}").get_json()
    validate(body, "AuthorDetail")
    assert [c["id"] for c in body["conversations"]] == [second, first]


@pytest.mark.parametrize("path", ["/conversations/999999", "/authors/999999", "/queues/nope/conversations",
                                  "/no-such-endpoint"])
def test_missing_things_are_404_in_the_envelope(api, path):
    """Unknown resources and unknown routes answer the same JSON error shape."""
    response = api(path)
    assert response.status_code == 404
    validate(response.get_json(), "Error")


def test_wrong_method_is_405_in_the_envelope(client, token):
    """A routing-level 405 also uses the JSON error envelope."""
    response = client.delete("/api/v1/queues", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 405
    validate(response.get_json(), "Error")


def test_openapi_document_is_served_and_describes_every_route(app, client):
    """Every documented path exists with that method, and every API route is documented."""
    served = client.get("/api/v1/openapi.json").get_json()
    assert served == DOCUMENT
    jsonschema.Draft202012Validator.check_schema({"components": served["components"]})
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/api/", "/webhooks/", "/healthz", "/ping")):
            path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routes.add((path, method.lower()))
    documented = {(path, method) for path, item in served["paths"].items() for method in item}
    assert routes == documented


def test_webhook_responses_match_the_document(deliver):
    """Single and batch webhook answers validate against their schemas."""
    validate(deliver(make_post()).get_json(), "PostOutcome")
    validate(deliver([make_post(), make_post()]).get_json(), "BatchOutcome")


def test_a_500_rolls_back_and_answers_the_envelope(app, client, monkeypatch):
    """An unexpected crash is a 500 in the JSON envelope with nothing half-written."""

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    from workspace.services.intake import store

    monkeypatch.setattr(store, "_insert", explode)
    from tests.factories import SECRET
    from workspace.channels.signature import sign
    from workspace.models import Channel, Queue

    with app.app_context():
        db.session.add_all([Channel(slug="c", name="c", secret=SECRET), Queue(slug="triage", name="t")])
        db.session.commit()
    body = b'{"id": "1", "author": {"id": 1, "handle": "a"}, "text": "hi"}'
    response = client.post("/webhooks/c", data=body, headers={
        "Content-Type": "application/json", "X-Switchboard-Signature": sign(SECRET, body)})
    assert response.status_code == 500
    validate(response.get_json(), "Error")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Conversation)) == 0


def test_at_risk_counts_the_sla_engines_verdicts(app, api, routed_posts):
    """Open conversations the SLA watcher marked at risk or breached are counted as at risk; an early due time
    alone is not (the watcher decides, from each policy's at-risk share)."""
    from workspace.models import utcnow

    with app.app_context():
        at_risk, breached, soon_but_ok = (db.session.get(Conversation, i) for i in routed_posts[:3])
        at_risk.sla_status, breached.sla_status = "at_risk", "breached"
        soon_but_ok.sla_due_at = utcnow() + timedelta(minutes=1)
        db.session.commit()
    counts = {q["slug"]: q["counts"] for q in api("/queues").get_json()["data"]}
    assert counts["billing"]["at_risk"] == 2


def test_list_filters_and_previews(api, routed_posts, client, token):
    """Mine/unassigned, tag and channel filters narrow the list; rows carry a preview of the post."""
    headers = {"Authorization": f"Bearer {token}"}
    client.patch(f"/api/v1/conversations/{routed_posts[0]}", json={"assignee": "me", "tags": ["refund"]},
                 headers=headers)
    mine = api("/queues/billing/conversations", query_string={"assignee": "me"}).get_json()["data"]
    assert [c["id"] for c in mine] == [routed_posts[0]] and mine[0]["preview"] == "@billing question 0"
    unassigned = api("/queues/billing/conversations", query_string={"assignee": "none"}).get_json()["data"]
    assert routed_posts[0] not in [c["id"] for c in unassigned] and len(unassigned) == 4
    assert [c["id"] for c in api("/queues/billing/conversations", query_string={"tag": "refund"})
            .get_json()["data"]] == [routed_posts[0]]
    assert api("/queues/billing/conversations", query_string={"channel": "nope"}).get_json()["data"] == []
    assert api("/queues/billing/conversations", query_string={"assignee": "bob"}).status_code == 400


def test_search_finds_posts_and_customers(api, routed_posts):
    """Search matches post text and customer handles, case-insensitively; too-short queries are refused."""
    assert [c["id"] for c in api("/search", query_string={"q": "QUESTION 3"}).get_json()["data"]] == [routed_posts[3]]
    assert api("/search", query_string={"q": "question 9"}).get_json()["data"] == []
    assert [c["id"] for c in api("/search", query_string={"q": "h4"}).get_json()["data"]] == [routed_posts[4]]
    assert api("/search", query_string={"q": "x"}).status_code == 400


def test_cursor_walks_every_row_once_when_some_are_answered(app, api, routed_posts, client, token):
    """Answered conversations owe nothing (no due time) yet still page correctly, after the waiting ones."""
    for conversation_id in routed_posts[:2]:
        client.post(f"/api/v1/conversations/{conversation_id}/replies", json={"text": "done"},
                    headers={"Authorization": f"Bearer {token}"})
    with app.app_context():  # one priority level, so the due time decides the order
        for conversation in db.session.scalars(sa.select(Conversation)):
            conversation.priority = Priority.NORMAL
        db.session.commit()
    seen, cursor = [], None
    while True:
        query = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        body = api("/queues/billing/conversations", query_string=query).get_json()
        seen += [(c["id"], c["sla_due_at"]) for c in body["data"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert sorted(i for i, _ in seen) == sorted(routed_posts)
    assert [due is None for _, due in seen] == [False, False, False, True, True]
