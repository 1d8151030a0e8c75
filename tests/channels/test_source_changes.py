"""Posts edited or deleted at the source, through the real webhooks: the message and the search index follow."""

import pytest
import sqlalchemy as sa

from tests.factories import SECRET
from tests.payloads import (
    BRAND_ID,
    X_CONSUMER_SECRET,
    discourse_headers,
    discourse_post,
    encode,
    post_webhook,
    tweet,
    x_delivery,
    x_headers,
)
from workspace.extensions import db
from workspace.jobs.dispatch import dispatch_once
from workspace.models import Channel, Conversation, Message, Queue


@pytest.fixture
def channels(app, channel):
    """A Discourse forum 'community' and an X account 'mentions' beside the native 'forum' and its queues."""
    with app.app_context():
        db.session.add_all([
            Channel(slug="community", name="Community", kind="discourse", secret=SECRET),
            Channel(slug="mentions", name="Mentions", kind="x",
                    settings={"consumer_secret": X_CONSUMER_SECRET, "user_id": BRAND_ID})])
        db.session.commit()


@pytest.fixture
def discourse(client, channels):
    """POST a Discourse event: discourse(payload, event)."""

    def send(payload, event="post_created"):
        body = encode(payload)
        return post_webhook(client, "community", body, discourse_headers(body, SECRET, event))

    return send


@pytest.fixture
def x_account(client, channels):
    """POST an X Account Activity delivery: x_account(payload)."""

    def send(payload):
        body = encode(payload)
        return post_webhook(client, "mentions", body, x_headers(body))

    return send


@pytest.fixture
def found(app, client, token):
    """The conversation ids the search API returns for a query (every stored conversation put in billing first)."""

    def found(query: str) -> list[int]:
        with app.app_context():  # new conversations wait in no queue until routed
            billing = db.session.scalar(sa.select(Queue.id).where(Queue.slug == "billing"))
            db.session.execute(sa.update(Conversation).where(Conversation.queue_id.is_(None)).values(queue_id=billing))
            db.session.commit()
        response = client.get("/api/v1/search", query_string={"q": query}, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.get_json()
        return [row["id"] for row in response.get_json()["data"]]

    return found


def test_a_discourse_edit_replaces_the_words_the_index_finds(app, discourse, found):
    """post_edited: the old words find nothing, the new ones find the same conversation, still one message."""
    stored = discourse(discourse_post(raw="My wombat subscription was charged twice"))
    assert stored.status_code == 202
    conversation_id = stored.get_json()["conversation_id"]
    assert found("wombat") == [conversation_id]
    edited = discourse(discourse_post(raw="My platypus subscription was charged twice", version=2), "post_edited")
    assert edited.status_code == 200
    assert edited.get_json() == {"id": "1234", "status": "edited", "conversation_id": conversation_id,
                                 "message_id": stored.get_json()["message_id"]}
    assert found("wombat") == [] and found("platypus") == [conversation_id]
    with app.app_context():
        assert db.session.scalars(sa.select(Message.text)).all() == ["My platypus subscription was charged twice"]


def test_a_discourse_deletion_takes_the_post_out_of_the_index(app, discourse, found):
    """post_destroyed: the message keeps its place in the thread but loses its words, in the index too."""
    conversation_id = discourse(discourse_post(raw="Quetzal feathers arrived broken")).get_json()["conversation_id"]
    assert found("quetzal") == [conversation_id]
    deleted = discourse(discourse_post(deleted_at="2026-11-30T11:00:00.000Z"), "post_destroyed")
    assert deleted.status_code == 200 and deleted.get_json()["status"] == "deleted"
    assert found("quetzal") == [] and found("feathers") == []
    with app.app_context():
        message = db.session.scalar(sa.select(Message))
        assert (message.text, message.conversation_id) == ("", conversation_id)
        assert "Quetzal" not in str(message.raw)


def test_an_x_deletion_takes_each_deleted_tweet_out_of_the_index(app, x_account, found):
    """tweet_delete_events: every tweet named is emptied; the others stay findable."""
    first = tweet(1, text="@acme my narwhal plush never arrived")
    second = tweet(2, text="@acme my narwhal mug never arrived")
    stored = x_account(x_delivery(first, second))
    assert stored.status_code == 202
    kept = stored.get_json()["results"][1]["conversation_id"]
    assert len(found("narwhal")) == 2
    gone = x_account({"for_user_id": BRAND_ID, "tweet_delete_events": [
        {"status": {"id": first["id_str"], "user_id": first["user"]["id_str"]}, "timestamp_ms": "1432228155593"},
        {"status": {"id": "999", "user_id": "1"}, "timestamp_ms": "1432228155593"}]})
    assert gone.status_code == 200
    assert [row["status"] for row in gone.get_json()["results"]] == ["deleted", "unknown"]
    assert found("narwhal") == [kept] and found("plush") == []


def test_a_change_to_a_post_never_stored_changes_nothing(discourse, counts):
    """An edit of an unknown post is answered 'unknown' and writes nothing."""
    before = counts()
    response = discourse(discourse_post(id=5555, raw="new words"), "post_edited")
    assert response.status_code == 200 and response.get_json()["status"] == "unknown"
    assert counts() == before


@pytest.mark.parametrize("payload", [
    {"post": {"id": 1234, "raw": "", "cooked": ""}},
    {"post": {"raw": "no id"}},
    {"post": "not an object"},
])
def test_a_malformed_edit_is_a_400_and_changes_nothing(app, discourse, found, payload):
    """An edit without text or id is refused with the error envelope; the stored post is untouched."""
    conversation_id = discourse(discourse_post(raw="Axolotl tank leaks")).get_json()["conversation_id"]
    response = discourse(payload, "post_edited")
    assert response.status_code == 400 and set(response.get_json()["error"]) == {"code", "message"}
    assert found("axolotl") == [conversation_id]


def test_a_malformed_x_deletion_is_a_400(x_account, counts):
    """tweet_delete_events must be a non-empty list of events naming a status id."""
    before = counts()
    for events in ([], [{"status": {}}], ["x"]):
        response = x_account({"for_user_id": BRAND_ID, "tweet_delete_events": events})
        assert response.status_code == 400, events
    assert counts() == before


def test_an_edit_keeps_the_replaced_words_in_the_messages_history(app, discourse, api):
    """post_edited: the API shows the new text and, in `edits`, the version it replaced."""
    conversation_id = discourse(discourse_post(raw="My order is late")).get_json()["conversation_id"]
    discourse(discourse_post(raw="My order is very late", version=2), "post_edited")
    with app.app_context():  # put it where the API's caller may read it
        db.session.execute(sa.update(Conversation).values(queue_id=db.session.scalar(sa.select(Queue.id).limit(1))))
        db.session.commit()
    message = api(f"/conversations/{conversation_id}").get_json()["messages"][0]
    assert message["text"] == "My order is very late" and not message["hidden"]
    assert [e["text"] for e in message["edits"]] == ["My order is late"]


def test_deleting_a_lone_post_withdraws_its_conversation_and_recovering_it_brings_both_back(app, discourse, found):
    """post_destroyed hides the only post and takes the conversation out of the queue; post_recovered shows it
    again with its text, findable, and the conversation back in the queue."""
    conversation_id = discourse(discourse_post(raw="Ocelot collar too small")).get_json()["conversation_id"]
    assert found("ocelot") == [conversation_id]
    discourse(discourse_post(deleted_at="2026-11-30T11:00:00.000Z"), "post_destroyed")
    with app.app_context():
        conversation = db.session.get(Conversation, conversation_id)
        assert (conversation.status, conversation.tags) == ("resolved", ["source-deleted"])
        assert db.session.scalar(sa.select(Message.hidden_at)) is not None
    recovered = discourse(discourse_post(raw="Ocelot collar too small"), "post_recovered")
    assert recovered.status_code == 200 and recovered.get_json()["status"] == "recovered"
    assert found("ocelot") == [conversation_id]
    with app.app_context():
        conversation = db.session.get(Conversation, conversation_id)
        assert (conversation.status, conversation.tags) == ("open", [])
        assert db.session.scalar(sa.select(Message.hidden_at)) is None


def test_an_edit_that_changes_the_route_moves_an_untouched_conversation(app, discourse, token, client, run_jobs):
    """A post routed to triage, edited to name a refund, is routed again and lands in billing by the rule."""
    rule = client.post("/api/v1/rules", headers={"Authorization": f"Bearer {token}"}, json={
        "name": "refunds", "conditions": {"keywords": ["refund"]}, "actions": {"queue": "billing"}})
    assert rule.status_code == 201
    conversation_id = discourse(discourse_post(raw="Something odd happened")).get_json()["conversation_id"]
    route(app, run_jobs)
    with app.app_context():
        assert db.session.get(Conversation, conversation_id).queue.slug != "billing"
    discourse(discourse_post(raw="Something odd happened, I want a refund", version=2), "post_edited")
    route(app, run_jobs)
    with app.app_context():
        conversation = db.session.get(Conversation, conversation_id)
        assert (conversation.queue.slug, conversation.status) == ("billing", "open")


def route(app, run_jobs) -> None:
    with app.app_context():
        while dispatch_once(100):
            pass
    run_jobs()
