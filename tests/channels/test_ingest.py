"""The webhook endpoint: signed posts stored once, bad input refused with nothing written."""

import json

import pytest
import sqlalchemy as sa

from tests.factories import SECRET, make_post
from workspace.extensions import db
from workspace.models import Author, Channel, Conversation, Message, OutboxEntry


def test_signed_post_is_stored_with_its_conversation_and_outbox_row(app, deliver):
    """A signed post gets 202 with the conversation id, after message, conversation and outbox commit."""
    response = deliver(make_post(id="42", subject="Invoice", author={
        "id": 7, "handle": "@maya", "name": "Maya", "followers": 1200, "email": "m@example.net", "verified": True}))
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "stored" and body["id"] == "42"
    with app.app_context():
        conversation = db.session.get(Conversation, body["conversation_id"])
        assert conversation.status == "new" and conversation.subject == "Invoice"
        message = db.session.get(Message, body["message_id"])
        assert message.conversation_id == conversation.id and message.external_id == "42"
        assert message.direction == "inbound"
        author = conversation.author
        assert (author.external_id, author.handle, author.followers, author.verified) == ("7", "maya", 1200, True)
        assert db.session.scalars(sa.select(OutboxEntry.conversation_id)).all() == [conversation.id]


def test_redelivered_post_is_a_duplicate_and_changes_nothing(deliver, counts):
    """The same channel + external id answers 200 with the same ids and writes nothing."""
    post = make_post()
    first = deliver(post).get_json()
    before = counts()
    again = deliver(post)
    assert again.status_code == 200
    assert again.get_json() == {**first, "status": "duplicate"}
    assert counts() == before


def test_ten_thousand_duplicates_store_one_post(deliver, counts):
    """10,000 deliveries of one post (as 20 batches of 500) leave one message."""
    post = make_post()
    assert deliver(post).status_code == 202
    before = counts()
    for _ in range(20):
        response = deliver([post] * 500)
        assert response.status_code == 200
        assert response.get_json()["duplicates"] == 500
    assert counts() == before


def test_batch_is_stored_in_order_and_threads_within_itself(app, deliver):
    """An array of posts is stored together; a reply in the same batch joins its parent."""
    parent = make_post(id="a1")
    reply = make_post(id="a2", in_reply_to="a1", author={"id": "u9", "handle": "other"})
    other = make_post(id="a3", author={"id": "u5", "handle": "zed"})
    response = deliver([parent, reply, other, parent])
    assert response.status_code == 202
    body = response.get_json()
    assert (body["stored"], body["duplicates"]) == (3, 1)
    results = body["results"]
    assert [r["status"] for r in results] == ["stored", "stored", "stored", "duplicate"]
    assert results[0]["conversation_id"] == results[1]["conversation_id"] != results[2]["conversation_id"]
    assert results[3]["message_id"] == results[0]["message_id"]


def test_batch_is_all_or_nothing(deliver, counts):
    """One bad post in a batch refuses the whole batch, naming its index and field."""
    before = counts()
    response = deliver([make_post(), make_post(), make_post(author={"id": "x"})])
    assert response.status_code == 400
    assert "[2].author.handle" in response.get_json()["error"]["message"]
    assert counts() == before


def test_batch_over_the_limit_is_refused(deliver, counts):
    """More than 500 posts in one request is a 400 saying the limit."""
    before = counts()
    response = deliver([make_post() for _ in range(501)])
    assert response.status_code == 400
    assert "at most 500" in response.get_json()["error"]["message"]
    assert counts() == before


def test_unknown_fields_are_ignored_but_kept_in_the_raw_payload(app, deliver):
    """Fields the format does not define are stored in the raw payload, not refused."""
    response = deliver(make_post(mood="grumpy", extra={"nested": [1, 2]}))
    assert response.status_code == 202
    with app.app_context():
        raw = db.session.get(Message, response.get_json()["message_id"]).raw
        assert raw["mood"] == "grumpy" and raw["extra"] == {"nested": [1, 2]}


HOSTILE = "<script>alert(1)</script>'; DROP TABLE messages; --\" OR 1=1 <img src=x onerror=alert(2)>"


def test_sql_and_html_in_every_field_are_stored_as_data(app, deliver, api):
    """Hostile text goes in and comes back out byte for byte, and nothing else happens."""
    post = make_post(id=HOSTILE[:200], subject=HOSTILE, text=HOSTILE, thread_id=HOSTILE[:100],
                     author={"id": HOSTILE[:50], "handle": HOSTILE[:60], "name": HOSTILE, "email": HOSTILE[:90]})
    response = deliver(post)
    assert response.status_code == 202
    detail = api(f"/conversations/{response.get_json()['conversation_id']}").get_json()
    assert detail["subject"] == HOSTILE
    assert detail["messages"][0]["text"] == HOSTILE
    assert detail["messages"][0]["external_id"] == HOSTILE[:200]
    assert detail["author"]["name"] == HOSTILE
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1


def _bad_requests():
    good = make_post(id="bad-case")
    wrong_type = dict(good, text=["not", "a", "string"])
    missing_text = {k: v for k, v in good.items() if k != "text"}
    return [
        ("malformed JSON", b'{"id": "1", "text": ', "not valid JSON"),
        ("not an object", b'"just a string"', "body: must be an object"),
        ("NaN is not JSON", b'{"id": NaN}', "NaN is not allowed"),
        ("text of the wrong type", wrong_type, "text: must be a string"),
        ("missing text", missing_text, "text: is required"),
        ("missing author", {k: v for k, v in good.items() if k != "author"}, "author: must be an object"),
        ("missing id", {k: v for k, v in good.items() if k != "id"}, "id: is required"),
        ("boolean id", dict(good, id=True), "id: must be a string or an integer"),
        ("negative followers", dict(good, author={"id": 1, "handle": "a", "followers": -5}),
         "author.followers: must be a non-negative integer"),
        ("verified not a bool", dict(good, author={"id": 1, "handle": "a", "verified": "yes"}),
         "author.verified: must be true or false"),
        ("empty text", dict(good, text="   \n "), "text: must not be empty"),
        ("NUL in text", dict(good, text="a\x00b"), "text: must not contain NUL"),
        ("javascript URL", dict(good, url="javascript:alert(1)"), "url: must be an http or https URL"),
        ("bad timestamp", dict(good, created_at="yesterday"), "created_at: must be an ISO 8601 timestamp"),
        ("invalid UTF-8", b'{"id": "1", "text": "\xff\xfe"}', "not valid UTF-8"),
        ("empty array", b"[]", "empty"),
        ("deep nesting", b"[" * 100000 + b"]" * 100000, "nested too deeply"),
    ]


@pytest.mark.parametrize("label,payload,message", _bad_requests(), ids=[case[0] for case in _bad_requests()])
def test_malformed_posts_get_400_naming_the_problem(deliver, counts, label, payload, message):
    """Each kind of malformed body is a 400 whose message says what is wrong, and nothing is written."""
    before = counts()
    response = deliver(payload)
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert message in error["message"] and error["code"]
    assert counts() == before


def test_body_over_one_mebibyte_is_413(deliver, counts):
    """Text of 1 MiB + 1 byte makes the body too large: 413, nothing stored."""
    before = counts()
    response = deliver(make_post(text="x" * (1024 * 1024 + 1)))
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_entity_too_large"
    assert counts() == before


def test_text_just_under_the_limit_is_accepted(deliver):
    """A body just under 1 MiB is stored."""
    assert deliver(make_post(text="y" * (1024 * 1024 - 500))).status_code == 202


@pytest.mark.parametrize("headers,code", [
    ({"X-Switchboard-Signature": None}, "signature_missing"),
    ({"X-Switchboard-Signature": "sha256=" + "0" * 64}, "signature_invalid"),
    ({"X-Switchboard-Signature": "md5=abc"}, "signature_invalid"),
])
def test_missing_or_wrong_signature_is_401(deliver, counts, headers, code):
    """Without a valid signature nothing is read or stored."""
    before = counts()
    response = deliver(make_post(), headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == code
    assert counts() == before


def test_signature_with_another_secret_is_401(deliver, counts):
    """A well-formed signature made with the wrong secret is refused."""
    before = counts()
    assert deliver(make_post(), secret="not-" + SECRET).status_code == 401
    assert counts() == before


def test_signature_over_a_different_body_is_401(client, channel, counts):
    """A signature copied from one body does not sign another (a replay with a changed id)."""
    from workspace.channels.signature import sign

    original = json.dumps(make_post(id="1")).encode()
    replayed = original.replace(b'"1"', b'"2"')
    before = counts()
    response = client.post(f"/webhooks/{channel}", data=replayed, headers={
        "Content-Type": "application/json", "X-Switchboard-Signature": sign(SECRET, original)})
    assert response.status_code == 401
    assert counts() == before


def test_unknown_channel_is_404(deliver, counts):
    """Posting to a channel that does not exist is a 404 in the error envelope."""
    before = counts()
    response = deliver(make_post(), slug="nope")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "unknown_channel"
    assert counts() == before


def test_disabled_channel_is_403(app, deliver, counts):
    """A disabled channel refuses posts, so the sender stops rather than retries."""
    with app.app_context():
        db.session.execute(sa.update(Channel).values(enabled=False))
        db.session.commit()
    before = counts()
    response = deliver(make_post())
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "channel_disabled"
    assert counts() == before


def test_non_json_content_type_is_415(deliver, counts):
    """A form or text body is refused as an unsupported media type."""
    before = counts()
    response = deliver(make_post(), content_type="text/plain")
    assert response.status_code == 415
    assert counts() == before


def test_author_profile_is_refreshed_by_later_posts(app, deliver):
    """A later post updates the author's handle and followers; absent fields keep their value."""
    deliver(make_post(author={"id": "a", "handle": "old", "followers": 10, "email": "e@x.org"}))
    deliver(make_post(author={"id": "a", "handle": "new", "followers": 99}))
    with app.app_context():
        author = db.session.scalar(sa.select(Author))
        assert (author.handle, author.followers, author.email) == ("new", 99, "e@x.org")


def test_a_disabled_channel_refuses_posts_once_its_cached_row_expires(app, deliver, monkeypatch):
    """Channel rows are cached for seconds, not forever: disabling takes effect after the cache time."""
    from workspace.web.webhooks import channels

    assert deliver(make_post()).status_code == 202
    with app.app_context():
        db.session.execute(sa.update(Channel).values(enabled=False))
        db.session.commit()
    clock = [channels.time.monotonic()]
    monkeypatch.setattr(channels.time, "monotonic", lambda: clock[0])
    clock[0] += channels.CHANNEL_CACHE_SECONDS + 0.1
    assert deliver(make_post()).status_code == 403
