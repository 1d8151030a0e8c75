"""X direct messages: private conversations, never joined with the customer's public mentions; replies go back
through the relay as direct messages."""

import pytest
import sqlalchemy as sa

from tests.factories import SECRET
from tests.payloads import BRAND_ID, X_CONSUMER_SECRET, encode, post_webhook, tweet, x_delivery, x_headers
from tests.platforms import CallbackReceiver, LiveServer
from workspace.extensions import db
from workspace.models import Channel, Conversation, Queue

CUSTOMER = "6253282"


def dm(number: int, text: str, sender: str = CUSTOMER) -> dict:
    """A delivery of one direct_message_events message_create, with X's users object."""
    return {"for_user_id": BRAND_ID, "direct_message_events": [{
        "type": "message_create", "id": str(1200000000000000000 + number), "created_timestamp": "1700000000000",
        "message_create": {"target": {"recipient_id": BRAND_ID if sender != BRAND_ID else CUSTOMER},
                           "sender_id": sender, "message_data": {"text": text, "entities": {}}}}],
        "users": {sender: {"id": sender, "name": "Sam Rivera", "screen_name": "samr0", "followers_count": 1520,
                           "verified": False, "profile_image_url_https": "https://pbs.example/a.jpg"}}}


@pytest.fixture
def relay():
    """The brand's relay: checks our signature, records what it would send."""
    receiver = CallbackReceiver(SECRET)
    with LiveServer(receiver.app) as server:
        receiver.url = f"{server.url}/replies"
        yield receiver


@pytest.fixture
def x_account(app, client, channel, relay):
    """An X channel 'mentions' whose replies go to the relay; x_account(payload) posts a signed delivery."""
    with app.app_context():
        db.session.add(Channel(slug="mentions", name="Mentions", kind="x", secret=SECRET, settings={
            "consumer_secret": X_CONSUMER_SECRET, "user_id": BRAND_ID, "callback_url": relay.url}))
        db.session.commit()

    def send(payload):
        body = encode(payload)
        return post_webhook(client, "mentions", body, x_headers(body))

    return send


def test_direct_messages_are_one_private_conversation_apart_from_public_mentions(app, x_account):
    """A DM opens a private conversation; the same customer's mention opens a public one; a second DM joins
    the first; the brand's own DM is ignored."""
    first = x_account(dm(1, "my card was charged twice, last digits 4242"))
    assert first.status_code == 202, first.get_json()
    mention = x_account(x_delivery(tweet(0, text="@acme still waiting on my refund")))
    second = x_account(dm(2, "any news?"))
    ours = x_account(dm(3, "We are on it", sender=BRAND_ID))
    assert ours.status_code == 200 and ours.get_json()["status"] == "ignored"
    private_id, public_id = first.get_json()["conversation_id"], mention.get_json()["conversation_id"]
    assert second.get_json()["conversation_id"] == private_id != public_id
    with app.app_context():
        private, public = db.session.get(Conversation, private_id), db.session.get(Conversation, public_id)
        assert (private.private, public.private) == (True, False)
        assert private.author_id == public.author_id  # one customer, two conversations


def test_a_mention_right_after_a_dm_is_not_joined_to_it(app, x_account):
    """Within the author window a public mention still starts its own conversation, and so does a DM after one."""
    mention_first = x_account(x_delivery(tweet(0, text="@acme hello"))).get_json()["conversation_id"]
    dm_after = x_account(dm(1, "privately: my address is 1 Main St")).get_json()["conversation_id"]
    mention_after = x_account(x_delivery(tweet(5, text="@acme hello again", user={
        "id_str": CUSTOMER, "screen_name": "samr0", "name": "Sam Rivera"}))).get_json()["conversation_id"]
    assert dm_after != mention_first and mention_after != dm_after


def test_a_reply_to_a_dm_goes_to_the_relay_as_a_private_message(app, x_account, relay, client, token, run_jobs):
    """The relay's body marks the reply private and names the customer to send the direct message to."""
    conversation_id = x_account(dm(1, "where is my parcel?")).get_json()["conversation_id"]
    with app.app_context():
        db.session.get(Conversation, conversation_id).queue_id = db.session.scalar(sa.select(Queue.id).limit(1))
        db.session.commit()
    reply = client.post(f"/api/v1/conversations/{conversation_id}/replies", json={"text": "It ships today."},
                        headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 201
    run_jobs()
    [posted] = relay.posted
    assert posted["visibility"] == "private" and posted["conversation"]["private"] is True
    assert posted["customer"]["id"] == CUSTOMER and posted["in_reply_to"]["id"] == "dm-1200000000000000001"
