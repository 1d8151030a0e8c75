"""Hostile webhook bodies: each is a 4xx that says what is wrong and stores nothing, never a 500."""

import io
import json

import pytest

from tests.factories import SECRET, make_post
from tests.payloads import BRAND_ID, X_CONSUMER_SECRET, encode, tweet, x_delivery, x_headers
from workspace.channels.signature import sign
from workspace.extensions import db
from workspace.models import Channel

HUGE = "9" * 5000  # past Python's 4,300-digit limit for int <-> str


def _refused(deliver, counts, body: bytes, status: int = 400) -> dict:
    before = counts()
    response = deliver(body)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert error["message"]
    assert counts() == before
    return error


@pytest.mark.parametrize("where", ["id", "text", "extra", "author.id", "author.followers"])
def test_a_5000_digit_integer_in_any_field_is_400(deliver, counts, where):
    """Python refuses to convert it; that is the sender's mistake, named as such."""
    post = make_post(extra="x", author={"id": "u1", "handle": "maya", "followers": 1})
    marker = '"MARKER"'
    if "." in where:
        post["author"][where.split(".")[1]] = "MARKER"
    else:
        post[where] = "MARKER"
    body = json.dumps(post).replace(marker, HUGE).encode()
    error = _refused(deliver, counts, body)
    assert "digits" in error["message"]


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59Z"])
def test_a_created_at_out_of_range_is_400(deliver, counts, moment):
    """Dates a thread window or a timezone shift cannot handle are refused, naming created_at."""
    error = _refused(deliver, counts, encode(make_post(created_at=moment)))
    assert error["message"].startswith("created_at:")


@pytest.mark.parametrize("field", ["text", "id"])
def test_a_lone_surrogate_is_400_naming_the_field(deliver, counts, field):
    """"\\ud800" decodes to a string no database can store as UTF-8."""
    body = json.dumps(make_post(**{field: "ok \ud800"})).encode()
    assert b"\\ud800" in body
    error = _refused(deliver, counts, body)
    assert error["message"].startswith(f"{field}:")


def test_a_surrogate_pair_is_an_emoji_and_is_stored(deliver):
    """Escaped pairs (JSON's way to write characters past the BMP) are text like any other."""
    body = json.dumps(make_post(text="thanks \U0001F600")).encode()
    assert b"\\ud83d\\ude00" in body
    assert deliver(body).status_code == 202


@pytest.mark.parametrize("number", ["1e999", "-1e999"])
def test_an_infinite_number_in_an_unknown_field_is_400(deliver, counts, number):
    """1e999 is not a JSON number any database stores (PostgreSQL refuses Infinity in jsonb)."""
    body = json.dumps(make_post(extra="MARKER")).replace('"MARKER"', number).encode()
    error = _refused(deliver, counts, body)
    assert "number" in error["message"]


def test_a_chunked_body_over_1_mib_is_413(client, channel, counts, app):
    """Without Content-Length the limit still holds: 413, not a truncated body that fails its signature."""
    body = encode(make_post(text="x" * (app.config["MAX_CONTENT_LENGTH"] + 10)))
    before = counts()
    response = client.post("/webhooks/forum", input_stream=io.BytesIO(body),
                           headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked",
                                    "X-Switchboard-Signature": sign(SECRET, body)},
                           environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413
    assert counts() == before


def test_a_chunked_body_under_the_limit_is_stored(client, channel):
    """The same path for a delivery that fits: read whole, signature checked, stored."""
    body = encode(make_post())
    response = client.post("/webhooks/forum", input_stream=io.BytesIO(body),
                           headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked",
                                    "X-Switchboard-Signature": sign(SECRET, body)},
                           environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 202


@pytest.fixture
def mentions(app):
    """An X channel 'mentions' for the brand account BRAND_ID."""
    with app.app_context():
        db.session.add(Channel(slug="mentions", name="Mentions", kind="x",
                               settings={"consumer_secret": X_CONSUMER_SECRET, "user_id": BRAND_ID}))
        db.session.commit()
    return "mentions"


def _x(client, payload):
    body = encode(payload)
    return client.post("/webhooks/mentions", data=body, headers=x_headers(body))


def test_an_x_app_revoke_without_for_user_id_is_acknowledged(client, mentions, counts):
    """X's documented user_event (a user revoking the app) names no for_user_id: 200, nothing stored."""
    before = counts()
    revoke = {"user_event": {"revoke": {"date_time": "2018-05-24T09:48:12+00:00",
                                        "target": {"app_id": "13090192"}, "source": {"user_id": "63046977"}}}}
    response = _x(client, revoke)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "ignored"
    assert counts() == before


def test_x_tweets_still_need_for_user_id(client, mentions, counts):
    """Only the revoke, which X sends without it, goes without for_user_id; tweets do not."""
    payload = x_delivery(tweet(1))
    del payload["for_user_id"]
    before = counts()
    response = _x(client, payload)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "for_user_id: is required"
    assert counts() == before


@pytest.mark.parametrize("created_at", ["Mon Jan 01 00:00:00 +0000 0001", "Fri Dec 31 23:59:59 -1400 9999"])
def test_an_x_created_at_out_of_range_is_400(client, mentions, counts, created_at):
    """X's own date format, at the ends of the calendar: refused, naming the field."""
    before = counts()
    response = _x(client, x_delivery(tweet(1, created_at=created_at)))
    assert response.status_code == 400
    assert "created_at" in response.get_json()["error"]["message"]
    assert counts() == before
