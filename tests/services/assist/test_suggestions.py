"""Suggestions beside a conversation: learned from applied macros and past replies by a real worker after routing,
with their sources; nothing for an unrelated post; outcomes recorded per version; never sent without an agent."""

import pytest
import sqlalchemy as sa

from tests.factories import deliver_and_dispatch, make_post
from workspace.extensions import db
from workspace.models import (
    Agent,
    ApiToken,
    Article,
    Author,
    Conversation,
    Macro,
    Message,
    Suggestion,
    SuggestionVersion,
)
from workspace.services.assist import training

REFUND_POSTS = ["I was charged twice for my order, I want a refund", "please refund the duplicate charge on my card",
                "refund my money, the payment went through two times", "how do I get a refund for a double charge",
                "charged twice this month, need my money back", "I need a refund, you billed me twice"]
PASSWORD_POSTS = ["I forgot my password and cannot log in", "password reset link never arrives",
                  "cannot sign in, reset my password please", "locked out of my account after password change",
                  "how do I change my password, login fails", "the password reset email is missing"]
REFUND_REPLY = "Sorry about the double charge: the duplicate is refunded within 5 days."


@pytest.fixture
def world(app, channel):
    """Ada (admin, with a token), a refund and a password macro, and a history: each macro applied by Ada
    through the API to six past posts, and one past reply to a refund post."""
    app.config["SUGGESTIONS_ENABLED"] = True
    with app.app_context():
        ada = Agent(email="ada@example.com", name="Ada", role="admin")
        row, token = ApiToken.issue(ada, "tests")
        refund = Macro(name="Refund a double charge", template="We refunded the duplicate charge.", scope="global",
                       actions=[{"type": "add_tags", "tags": ["refund"]}])
        password = Macro(name="Password reset", template="Use the reset link on the sign-in page.",
                         scope="global", actions=[{"type": "add_tags", "tags": ["password"]}])
        article = Article(slug="refund-policy", title="Charged twice? How a refund works", status="published",
                          body="If you were charged twice for an order, the duplicate is refunded within five days.",
                          tags=["refund"])
        draft = Article(slug="refund-draft", title="Refund draft", status="draft", body="charged twice refund")
        db.session.add_all([ada, row, refund, password, article, draft])
        db.session.flush()
        past = []
        for number, text in enumerate(REFUND_POSTS + PASSWORD_POSTS):
            author = Author(channel_id=1, external_id=f"old{number}", handle=f"old{number}", name="")
            conversation = Conversation(channel_id=1, author=author, queue_id=2, status="open", subject="")
            db.session.add_all([author, conversation, Message(conversation=conversation, channel_id=1,
                                                              author=author, text=text)])
            past.append(conversation)
        db.session.flush()
        db.session.add(Message(conversation_id=past[0].id, channel_id=1, agent_id=ada.id, direction="outbound",
                               text=REFUND_REPLY))
        db.session.commit()
        ids = {"refund": refund.id, "password": password.id, "past": [c.id for c in past]}
    headers = {"Authorization": f"Bearer {token}"}
    return {"headers": headers, **ids}


@pytest.fixture
def history(client, world):
    """Ada applies the refund macro to the refund posts and the password macro to the password posts."""
    for conversation_id, macro in zip(world["past"], ["refund"] * 6 + ["password"] * 6, strict=True):
        response = client.post(f"/api/v1/conversations/{conversation_id}/macros/{world[macro]}",
                               headers=world["headers"])
        assert response.status_code == 200, response.get_json()
    return world


def suggested(client, world, conversation_id):
    response = client.get(f"/api/v1/conversations/{conversation_id}/suggestions", headers=world["headers"])
    assert response.status_code == 200
    return response.get_json()["data"]


def test_a_routed_post_gets_the_learned_macro_first_and_a_past_reply_with_its_source(
        app, client, deliver, history, run_jobs):
    """The worker suggests after routing: the macro agents applied to similar posts first, the past reply to a
    similar post with its conversation; nothing is sent to the customer."""
    conversation_id = deliver_and_dispatch(app, deliver, make_post(
        text="I was charged twice for the same order and want a refund"))
    run_jobs()
    found = suggested(client, history, conversation_id)
    macros = [s for s in found if s["kind"] == "macro"]
    assert macros[0]["source"] == {"macro_id": history["refund"], "name": "Refund a double charge"}
    assert macros[0]["evidence"] == "learned" and 0 < macros[0]["confidence"] <= 1
    replies = [s for s in found if s["kind"] == "reply"]
    assert replies and replies[0]["source"]["text"] == REFUND_REPLY
    assert replies[0]["source"]["conversation_id"] == history["past"][0]
    articles = [s for s in found if s["kind"] == "article"]
    assert [a["source"]["slug"] for a in articles] == ["refund-policy"]
    assert articles[0]["source"]["excerpt"].startswith("If you were charged twice")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
            Message.conversation_id == conversation_id, Message.direction != "inbound")) == 0
        assert {s.outcome for s in db.session.scalars(sa.select(Suggestion))} == {"shown"}
        assert db.session.scalar(sa.select(SuggestionVersion.active)) is True


def test_an_unrelated_post_gets_nothing(app, client, deliver, history, run_jobs):
    """A post unlike anything agents handled: the ranker abstains rather than guess."""
    conversation_id = deliver_and_dispatch(app, deliver, make_post(
        text="What is a good recipe for banana bread with walnuts?"))
    run_jobs()
    assert suggested(client, history, conversation_id) == []


def test_a_macro_nobody_applied_yet_is_suggested_by_its_own_words(app, client, deliver, world, run_jobs):
    """Cold start: with no macro applied yet, the macro whose words match the post is suggested."""
    conversation_id = deliver_and_dispatch(app, deliver, make_post(text="Where is the password reset link?"))
    run_jobs()
    found = suggested(client, world, conversation_id)
    assert [(s["source"]["macro_id"], s["evidence"]) for s in found if s["kind"] == "macro"][0] == \
        (world["password"], "text")


def test_outcomes_are_recorded_in_order_and_counted_per_version(app, client, deliver, history, run_jobs):
    """Inserted then sent counts as accepted, ignored as not; an outcome out of order is 409 and changes nothing."""
    conversation_id = deliver_and_dispatch(app, deliver, make_post(
        text="I was charged twice for my order and want a refund"))
    run_jobs()
    first, *others = suggested(client, history, conversation_id)
    base = f"/api/v1/conversations/{conversation_id}/suggestions"

    def record(suggestion_id, outcome):
        return client.post(f"{base}/{suggestion_id}/outcome", json={"outcome": outcome}, headers=history["headers"])

    assert record(first["id"], "sent").status_code == 409
    assert record(first["id"], "inserted").get_json()["outcome"] == "inserted"
    assert record(first["id"], "edited").get_json()["outcome"] == "edited"
    assert record(first["id"], "ignored").status_code == 409
    assert record(others[0]["id"], "ignored").status_code == 200
    assert record(others[0]["id"], "bogus").status_code == 400
    assert record(10**6, "ignored").status_code == 404
    versions = client.get("/api/v1/suggestions/versions", headers=history["headers"]).get_json()["data"]
    assert versions[0]["outcomes"]["edited"] == 1 and versions[0]["outcomes"]["ignored"] == 1
    assert versions[0]["shown"] == len(others) + 1
    assert versions[0]["sent_rate"] == pytest.approx(1 / (len(others) + 1))


def test_a_new_version_replaces_the_active_one_only_through_the_gate(app, client, history, run_jobs):
    """Training again on the same history ranks held-out applied macros as high: promoted, with its measure."""
    with app.app_context():
        first = training.train()
        assert first.active and first.decision == "there is no active version to beat"
        second = training.train()
        assert second.active, second.decision
        assert second.metrics["candidate"]["n"] >= 2
        assert second.metrics["candidate"]["mrr"] >= second.metrics["active"]["mrr"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SuggestionVersion)
                                 .where(SuggestionVersion.active)) == 1
    response = client.post("/api/v1/suggestions/versions", json={"force": True}, headers=history["headers"])
    assert response.status_code == 202
    run_jobs()
    with app.app_context():
        newest = db.session.scalar(sa.select(SuggestionVersion).order_by(SuggestionVersion.id.desc()))
        assert newest.active and newest.decision == "promotion forced by an admin"
