"""Quality review: sampling agents' replies, scoring them, agents reading their own, averages per week."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tests.supervision import bearer, make_agent, make_conversation, make_reply, sign_in
from workspace.extensions import db
from workspace.models import Agent, AuditEntry, Message, QaReview
from workspace.services.supervision import quality


@pytest.fixture
def team(app, channel):
    """Ana answers billing (one reply on an angry conversation), Bob answers tech; Sam reviews."""
    with app.app_context():
        ana, ana_token = make_agent("agent", "Ana", ("billing",))
        bob, bob_token = make_agent("agent", "Bob", ("tech",))
        sam, sam_token = make_agent("supervisor", "Sam")
        replies = {
            "ana_calm": make_reply(make_conversation("billing", sentiment=0.4), ana),
            "ana_angry": make_reply(make_conversation("billing", sentiment=-0.8), ana, "Sorry <b>about</b> that"),
            "bob": make_reply(make_conversation("tech", sentiment=0.0), bob),
        }
    return {"ana": ana, "bob": bob, "sam": sam, "ana_token": ana_token, "bob_token": bob_token,
            "sam_token": sam_token, "replies": replies}


def sample(client, team, query="") -> set[int]:
    response = client.get(f"/api/v1/qa/sample?{query}", headers=bearer(team["sam_token"]))
    assert response.status_code == 200, response.get_json()
    return {reply["id"] for reply in response.get_json()["data"]}


def score(client, token, message_id, **scores):
    body = {"message_id": message_id, "accuracy": 4, "tone": 5, "resolution": 3, "comment": "Good", **scores}
    return client.post("/api/v1/qa/reviews", json=body, headers=bearer(token))


def test_sampling_by_agent_queue_and_negative_sentiment(client, team):
    """Each mode draws only the replies that fit it; random draws at most the limit from all."""
    replies = team["replies"]
    assert sample(client, team, f"mode=agent&agent_id={team['ana']}") == {replies["ana_calm"], replies["ana_angry"]}
    assert sample(client, team, "mode=queue&queue=tech") == {replies["bob"]}
    assert sample(client, team, "mode=negative") == {replies["ana_angry"]}
    assert sample(client, team, "mode=random&limit=50") == set(replies.values())
    assert len(sample(client, team, "mode=random&limit=2")) == 2


def test_reviewed_replies_leave_the_sample(client, team):
    """A reply once scored is not drawn again."""
    assert score(client, team["sam_token"], team["replies"]["bob"]).status_code == 201
    assert sample(client, team, "mode=queue&queue=tech") == set()


@pytest.mark.parametrize(("query", "field"), [
    ("mode=lucky", "mode"), ("mode=agent", "agent_id"), ("mode=queue", "queue"),
    ("limit=0", "limit"), ("limit=51", "limit"), ("agent_id=me", "agent_id"),
])
def test_bad_sampling_parameters_are_400(client, team, query, field):
    """Unknown modes and missing or malformed filters name the parameter."""
    response = client.get(f"/api/v1/qa/sample?{query}", headers=bearer(team["sam_token"]))
    assert response.status_code == 400 and response.get_json()["error"]["message"].startswith(field)


def test_a_review_is_stored_audited_and_shown_to_its_agent_only(app, client, team):
    """Scores and comment are kept with reviewer and agent; Ana sees hers, Bob sees none of them."""
    response = score(client, team["sam_token"], team["replies"]["ana_angry"], comment="Warm, but say what's next")
    assert response.status_code == 201
    review = response.get_json()
    assert (review["agent"]["name"], review["reviewer"]["name"], review["accuracy"], review["tone"],
            review["resolution"]) == ("Ana", "Sam", 4, 5, 3)
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "qa.review"))
        assert entry.agent_id == team["sam"] and entry.after["comment"] == "Warm, but say what's next"
    mine = client.get("/api/v1/qa/reviews", headers=bearer(team["ana_token"])).get_json()["data"]
    assert [r["id"] for r in mine] == [review["id"]]
    assert client.get("/api/v1/qa/reviews", headers=bearer(team["bob_token"])).get_json()["data"] == []
    peek = client.get(f"/api/v1/qa/reviews?agent_id={team['ana']}", headers=bearer(team["bob_token"]))
    assert peek.status_code == 403
    assert score(client, team["ana_token"], team["replies"]["ana_calm"]).status_code == 403


def test_agents_read_their_reviews_on_a_page_with_the_reply_escaped(app, team, client):
    """The console's "My reviews" page lists the agent's reviews; reply text is shown as text."""
    score(client, team["sam_token"], team["replies"]["ana_angry"], comment="<script>x</script>")
    page = app.test_client()
    sign_in(page, "ana@example.com")
    html = page.get("/reviews").get_data(as_text=True)
    assert "Sorry &lt;b&gt;about&lt;/b&gt; that" in html and "&lt;script&gt;x&lt;/script&gt;" in html
    other = app.test_client()
    sign_in(other, "bob@example.com")
    assert "No reviews of your replies yet." in other.get("/reviews").get_data(as_text=True)


@pytest.mark.parametrize("scores", [{"accuracy": 0}, {"tone": 6}, {"resolution": "3"}, {"accuracy": True},
                                    {"tone": None}, {"comment": 5}, {"comment": "x" * 5001}])
def test_bad_scores_are_refused_and_nothing_is_written(app, client, team, scores):
    """Scores must be whole numbers 1-5 and the comment a short text; a refusal writes nothing."""
    response = score(client, team["sam_token"], team["replies"]["bob"], **scores)
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(QaReview)) == 0


def test_sampling_a_queue_that_names_none_is_404(client, team):
    """mode=queue&queue=nope: no such queue."""
    response = client.get("/api/v1/qa/sample?mode=queue&queue=nope", headers=bearer(team["sam_token"]))
    assert response.status_code == 404


def test_only_agent_replies_are_reviewed_and_each_once(app, client, team):
    """A customer post is not a reply; a second review of the same reply is a 409."""
    with app.app_context():
        post_id = db.session.scalar(sa.select(Message.id).where(Message.direction == "inbound"))
    assert score(client, team["sam_token"], post_id).status_code == 404  # no agent reply of that id
    assert score(client, team["sam_token"], team["replies"]["bob"]).status_code == 201
    again = score(client, team["sam_token"], team["replies"]["bob"])
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_reviewed"


def test_a_supervisor_changes_a_review_and_it_is_audited(app, client, team):
    """PATCH changes only what it names, and the audit log has before and after."""
    review = score(client, team["sam_token"], team["replies"]["bob"]).get_json()
    changed = client.patch(f"/api/v1/qa/reviews/{review['id']}", json={"tone": 2},
                           headers=bearer(team["sam_token"])).get_json()
    assert (changed["accuracy"], changed["tone"], changed["resolution"]) == (4, 2, 3)
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "qa.review_update"))
        assert (entry.before["tone"], entry.after["tone"]) == (5, 2)
    assert client.patch("/api/v1/qa/reviews/999", json={"tone": 2},
                        headers=bearer(team["sam_token"])).status_code == 404


def test_averages_per_agent_per_week(app, team):
    """Each agent's mean scores per ISO week, oldest week first."""
    with app.app_context():
        for message_id, when, scores in (
            (team["replies"]["ana_calm"], datetime(2026, 11, 16, 10, tzinfo=UTC), (2, 3, 4)),
            (team["replies"]["ana_angry"], datetime(2026, 11, 25, 10, tzinfo=UTC), (4, 5, 4)),
            (team["replies"]["bob"], datetime(2026, 11, 26, 10, tzinfo=UTC), (5, 5, 5)),
        ):
            review = quality.review({"message_id": message_id, "accuracy": scores[0], "tone": scores[1],
                                     "resolution": scores[2]}, db.session.get(Agent, team["sam"]))
            review.created_at = when
        db.session.commit()
        rows = quality.averages(weeks=4, now=datetime(2026, 12, 1, 12, tzinfo=UTC))
    assert rows == [
        {"agent": {"id": team["ana"], "name": "Ana"}, "weeks": [
            {"week": "2026-W47", "reviews": 1, "accuracy": 2.0, "tone": 3.0, "resolution": 4.0},
            {"week": "2026-W48", "reviews": 1, "accuracy": 4.0, "tone": 5.0, "resolution": 4.0}]},
        {"agent": {"id": team["bob"], "name": "Bob"}, "weeks": [
            {"week": "2026-W48", "reviews": 1, "accuracy": 5.0, "tone": 5.0, "resolution": 5.0}]},
    ]
