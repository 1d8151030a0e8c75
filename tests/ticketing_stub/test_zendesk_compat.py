"""The stub answers as Zendesk does where clients rely on it: `description` on create, and search by query."""

import base64

import pytest

import ticketing_stub
from tests.factories import TICKETING_EMAIL, TICKETING_TOKEN

AUTH = {"Authorization": "Basic " + base64.b64encode(f"{TICKETING_EMAIL}/token:{TICKETING_TOKEN}".encode()).decode()}


@pytest.fixture
def stub(tmp_path):
    """The stub's app in process, with its own SQLite file and the test credentials."""
    app = ticketing_stub.create_app({"TICKETS_DATABASE": str(tmp_path / "tickets.db"), "TESTING": True,
                                     "TICKETS_API_EMAIL": TICKETING_EMAIL, "TICKETS_API_TOKEN": TICKETING_TOKEN,
                                     "TICKETS_WEBHOOK_URL": None})
    return app.test_client()


def create(stub, **ticket):
    response = stub.post("/api/v2/tickets.json", json={"ticket": ticket}, headers=AUTH)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["ticket"]


def test_description_is_the_first_comment_as_in_zendesk(stub):
    """zenpy's README example, {"subject": "test", "description": "test"}, is a 201 with that description."""
    response = stub.post("/api/v2/tickets.json", json={"ticket": {"subject": "test", "description": "test"}},
                         headers=AUTH)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["ticket"]["description"] == "test"
    assert body["audit"]["events"][0]["type"] == "Comment" and body["audit"]["events"][0]["body"] == "test"
    assert body["audit"]["events"][0]["public"] is True


def test_a_comment_wins_over_description_and_blank_is_still_422(stub):
    """With both, the comment is the first one; with neither (or a blank description), Zendesk's 422."""
    ticket = create(stub, subject="both", description="ignored", comment={"body": "the thread"})
    assert ticket["description"] == "the thread"
    for bad in ({"subject": "none"}, {"subject": "blank", "description": "  "}, {"subject": "x", "description": 7}):
        response = stub.post("/api/v2/tickets.json", json={"ticket": bad}, headers=AUTH)
        assert response.status_code == 422
        assert "description" in response.get_json()["details"]


def test_search_finds_tickets_by_external_id(stub):
    """GET /api/v2/search.json?query=type:ticket external_id:17 answers Zendesk's shape."""
    wanted = create(stub, subject="Charged twice", description="d", external_id="17", tags=["vip"])
    create(stub, subject="Other", description="d", external_id="170")
    response = stub.get("/api/v2/search.json", query_string={"query": "type:ticket external_id:17"}, headers=AUTH)
    assert response.status_code == 200
    body = response.get_json()
    assert body["count"] == 1 and [r["id"] for r in body["results"]] == [wanted["id"]]
    assert body["results"][0]["result_type"] == "ticket" and body["results"][0]["external_id"] == "17"
    assert body["next_page"] is None and body["previous_page"] is None


@pytest.mark.parametrize("query, subjects", [
    ('external_id:"17"', ["Charged twice"]),
    ("status:new tags:vip", ["Charged twice"]),
    ("charged", ["Charged twice"]),
    ("type:ticket", ["Charged twice", "Other"]),
    ("type:user", []),
    ("external_id:nope", []),
])
def test_search_terms_all_hold(stub, query, subjects):
    """Words and property:value terms, every one of which must hold; only tickets are searched."""
    create(stub, subject="Charged twice", description="d", external_id="17", tags=["vip"])
    create(stub, subject="Other", description="d", external_id="170")
    body = stub.get("/api/v2/search.json", query_string={"query": query}, headers=AUTH).get_json()
    assert [r["subject"] for r in body["results"]] == subjects and body["count"] == len(subjects)


@pytest.mark.parametrize("query", ["", "created>2024-01-01", "assignee:me"])
def test_search_refuses_what_it_cannot_answer(stub, query):
    """No query, or an operator or property the stub does not serve: a 400 that says so, not a wrong answer."""
    response = stub.get("/api/v2/search.json", query_string={"query": query}, headers=AUTH)
    assert response.status_code == 400
    assert response.get_json()["error"] == "InvalidSearchQuery"


def test_search_needs_credentials(stub):
    """Like every API call, search is 401 without them."""
    assert stub.get("/api/v2/search.json?query=type:ticket").status_code == 401
