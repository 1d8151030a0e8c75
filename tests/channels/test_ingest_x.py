"""X Account Activity webhooks: the CRC challenge, signed tweet_create_events, and X's own rules."""

import base64
import hashlib
import hmac

import pytest
import sqlalchemy as sa

from tests.payloads import (
    BRAND_ID,
    TWENTY_SCRIPTS,
    X_CONSUMER_SECRET,
    encode,
    post_webhook,
    refused_without_writing,
    tweet,
    x_delivery,
    x_headers,
)
from workspace.extensions import db
from workspace.models import Author, Channel, Conversation, Message


@pytest.fixture
def mentions(app):
    """An X channel 'mentions' for the brand account BRAND_ID, with its app's consumer secret."""
    with app.app_context():
        db.session.add(Channel(slug="mentions", name="Mentions", kind="x",
                               settings={"consumer_secret": X_CONSUMER_SECRET, "user_id": BRAND_ID}))
        db.session.commit()
    return "mentions"


@pytest.fixture
def send(client, mentions):
    """POST a delivery as X would: send(payload, secret=..., headers=..., body=...)."""

    def send(payload, *, secret=X_CONSUMER_SECRET, headers=None, body=None):
        body = body if body is not None else encode(payload)
        return post_webhook(client, mentions, body, x_headers(body, secret), headers)

    return send


def test_crc_challenge_answers_the_token_signed_with_the_consumer_secret(client, mentions):
    """GET ?crc_token= answers sha256=<base64 HMAC-SHA256(consumer secret, token)>, as X computes it."""
    response = client.get(f"/webhooks/{mentions}?crc_token=Y3JjX3Rva2VuX2Zyb21feA&nonce=MTIz")
    assert response.status_code == 200
    expected = base64.b64encode(hmac.new(X_CONSUMER_SECRET.encode(), b"Y3JjX3Rva2VuX2Zyb21feA",
                                         hashlib.sha256).digest()).decode()
    assert response.get_json() == {"response_token": f"sha256={expected}"}


def test_crc_without_a_token_is_a_400_and_other_kinds_take_no_get(client, mentions, channel):
    """A CRC request without crc_token is refused; a native channel's URL answers GET with 405."""
    assert client.get(f"/webhooks/{mentions}").status_code == 400
    assert client.get(f"/webhooks/{mentions}?crc_token=").status_code == 400
    refused = client.get(f"/webhooks/{channel}?crc_token=abc")
    assert refused.status_code == 405 and refused.headers["Allow"] == "POST"


def test_the_crc_answer_cannot_be_used_to_sign_a_forged_delivery(client, mentions):
    """The CRC signs only base64 tokens: asked to sign a JSON body (a delivery to forge), it refuses."""
    forged = encode(x_delivery(tweet(text="@acme refund me", user={"id_str": "1", "screen_name": "mallory"})))
    response = client.get(f"/webhooks/{mentions}", query_string={"crc_token": forged.decode()})
    assert response.status_code == 400 and "response_token" not in response.get_json()


def test_a_mention_is_stored_by_id_str_with_the_authors_influence(app, send):
    """The tweet's id_str (never the rounded numeric id) is its id; followers and verified reach the author."""
    mention = tweet(user={**tweet()["user"], "followers_count": 250000, "verified": True})
    response = send(x_delivery(mention))
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["id"] == "1050118621198921728"
    with app.app_context():
        message = db.session.scalar(sa.select(Message))
        author = db.session.scalar(sa.select(Author))
        assert message.external_id == "1050118621198921728" and message.text == "@acme my order never arrived"
        assert message.url == "https://x.com/samr0/status/1050118621198921728"
        assert (author.external_id, author.handle, author.followers, author.verified) == ("6253282", "samr0",
                                                                                          250000, True)


def test_truncated_tweets_use_the_extended_full_text(app, send):
    """When truncated, the text is extended_tweet.full_text, not the cut-off text."""
    full = "@acme " + "my parcel has been stuck in customs for three weeks and nobody answers " * 4
    send(x_delivery(tweet(text=full[:137] + "…", truncated=True, extended_tweet={"full_text": full})))
    with app.app_context():
        assert db.session.scalar(sa.select(Message.text)) == full


def test_the_brands_own_tweets_and_retweets_are_not_queued(send, counts):
    """Tweets whose author is for_user_id, and retweets, are acknowledged and not stored."""
    before = counts()
    own = tweet(user={**tweet()["user"], "id_str": BRAND_ID, "screen_name": "acme"})
    retweet = tweet(1, retweeted_status=tweet(2))
    response = send(x_delivery(own, retweet))
    assert response.status_code == 200 and response.get_json()["status"] == "ignored"
    assert counts() == before


def test_a_reply_threads_into_the_conversation_of_the_tweet_it_answers(app, send):
    """A customer's reply to a stored tweet joins that tweet's conversation (in_reply_to_status_id_str)."""
    first = send(x_delivery(tweet(0))).get_json()
    other_person = tweet(5, in_reply_to_status_id_str="1050118621198921728", text="@samr0 @acme same problem")
    second = send(x_delivery(other_person)).get_json()
    assert second["conversation_id"] == first["conversation_id"]


def test_a_delivery_of_200_mentions_is_stored_whole(app, send, counts):
    """200 mentions in one delivery (from 200 people) are stored in one request, all or nothing."""
    response = send(x_delivery(*(tweet(n) for n in range(200))))
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["stored"] == 200 and len({r["conversation_id"] for r in body["results"]}) == 200
    assert counts()["messages"] == 200


def test_text_in_twenty_scripts_and_emoji_is_kept(app, send):
    """A tweet in 20 scripts plus emoji is stored exactly."""
    text = f"@acme {TWENTY_SCRIPTS}"
    assert send(x_delivery(tweet(text=text))).status_code == 202
    with app.app_context():
        assert db.session.scalar(sa.select(Message.text)) == text


def test_events_that_are_not_tweets_answer_200_and_change_nothing(send, counts):
    """Likes, follows and DMs are acknowledged and not stored."""
    before = counts()
    for event in ({"favorite_events": [{"id": "1", "favorited_status": tweet()}]},
                  {"follow_events": [{"type": "follow"}]}):
        response = send({"for_user_id": BRAND_ID, **event})
        assert response.status_code == 200 and response.get_json()["status"] == "ignored"
    assert counts() == before


BAD = [
    ("wrong signature", {"headers": {"x-twitter-webhooks-signature": "sha256=" + "A" * 44}}, 401),
    ("hex instead of base64", {"headers": {"x-twitter-webhooks-signature": "sha256=" + "ab" * 32}}, 401),
    ("missing signature", {"headers": {"x-twitter-webhooks-signature": None}}, 401),
    ("right body, wrong secret", {"secret": "another-apps-secret"}, 401),
    ("truncated body", {"body": encode(x_delivery(tweet()))[:-9]}, 400),
    ("unknown event", {"payload": {"for_user_id": BRAND_ID, "space_events": [{}]}}, 400),
    ("another account's events", {"payload": x_delivery(tweet(), for_user_id="999")}, 400),
    ("tweet without id_str", {"payload": x_delivery({**tweet(), "id_str": None})}, 400),
    ("truncated without extended_tweet", {"payload": x_delivery(tweet(truncated=True))}, 400),
    ("one bad tweet among good ones", {"payload": x_delivery(tweet(1), {**tweet(2), "user": None})}, 400),
]


@pytest.mark.parametrize("case,options,status", BAD, ids=[case for case, _, _ in BAD])
def test_bad_deliveries_are_refused_with_nothing_stored(send, counts, case, options, status):
    """Each bad delivery gets its status and a message naming the problem; no row is written."""
    refused_without_writing(send, counts, options, x_delivery(tweet()), status)


def test_an_x_channel_without_a_consumer_secret_refuses_everything(app, client, mentions):
    """Until the consumer secret is set, neither the CRC nor a delivery can be verified: 401."""
    with app.app_context():
        db.session.scalar(sa.select(Channel).where(Channel.slug == mentions)).settings = {"user_id": BRAND_ID}
        db.session.commit()
    assert client.get(f"/webhooks/{mentions}?crc_token=abc").status_code == 401
    body = encode(x_delivery(tweet()))
    assert client.post(f"/webhooks/{mentions}", data=body, headers=x_headers(body)).status_code == 401
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Conversation)) == 0
