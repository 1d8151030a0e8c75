"""Per-channel webhook rate limits (429 with Retry-After) and the cut-off for badly signed floods."""

import json

import pytest
import sqlalchemy as sa

from tests.factories import SECRET, make_config, make_post
from workspace import create_app
from workspace.channels.signature import sign
from workspace.extensions import db
from workspace.models import Channel, Message
from workspace.web.webhooks.limits import TokenBucket


def post(number: int) -> dict:
    return {"id": f"p-{number}", "author": {"id": "u1", "handle": "u1"}, "text": f"hello {number}"}


def set_rate(app, rate) -> None:
    with app.app_context():
        channel = db.session.scalar(sa.select(Channel).where(Channel.slug == "forum"))
        channel.settings = {"rate_limit": rate}
        db.session.commit()


def test_a_bucket_lets_a_burst_through_then_refills_at_its_rate():
    """Two seconds' burst at 2/s is 4; the fifth waits 0.5 s; after 0.5 s one more goes through."""
    bucket = TokenBucket(rate=2, burst=4, now=100.0)
    assert [bucket.take(100.0) for _ in range(4)] == [0, 0, 0, 0]
    assert bucket.take(100.0) == pytest.approx(0.5)
    assert bucket.take(100.5) == 0 and bucket.take(100.5) > 0


def test_a_channel_over_its_rate_gets_429_with_retry_after_and_nothing_stored(app, deliver, counts):
    """With rate_limit 1 the burst is 2 deliveries; the third is 429, Retry-After 1, nothing stored."""
    set_rate(app, 1)
    assert [deliver(post(n)).status_code for n in range(2)] == [202, 202]
    before = counts()
    refused = deliver(post(3))
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert refused.get_json()["error"]["code"] == "rate_limited" and "1 deliveries a second" in \
        refused.get_json()["error"]["message"]
    assert counts() == before


def test_badly_signed_deliveries_do_not_use_up_the_channels_rate(app, deliver):
    """A forger cannot lock the real sender out: bad signatures draw on their own address's allowance only."""
    set_rate(app, 1)
    for number in range(5):
        assert deliver(post(number), secret="wrong-secret").status_code == 401
    assert deliver(post(10)).status_code == 202


@pytest.fixture
def app_with(database_url, redis_url, tmp_path):
    """Build an app with config overrides and the 'forum' channel: app_with(settings=..., **config)."""
    built = []

    def build(settings=None, **overrides):
        app = create_app(make_config(SQLALCHEMY_DATABASE_URI=database_url, REDIS_URL=redis_url,
                                     MODEL_DIR=str(tmp_path / "models"), **overrides))
        with app.app_context():
            db.drop_all()
            db.create_all()
            db.session.add(Channel(slug="forum", name="Forum", kind="native", secret=SECRET, settings=settings))
            db.session.commit()
        built.append(app)
        return app

    yield build
    for app in built:
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


def send(client, secret=SECRET, address="203.0.113.9"):
    """Deliver a new post to 'forum' signed with `secret` from `address`."""
    body = json.dumps(make_post()).encode()
    return client.post("/webhooks/forum", data=body, environ_base={"REMOTE_ADDR": address}, headers={
        "Content-Type": "application/json", "X-Switchboard-Signature": sign(secret, body)})


def test_a_bad_signature_flood_is_cut_off_with_429_and_the_signed_sender_still_gets_in(app_with):
    """Past the allowance of badly signed deliveries an address gets 429 before its signature is even checked;
    the same channel still takes signed deliveries."""
    app = app_with(WEBHOOK_BAD_SIGNATURES_PER_MINUTE=3)
    client = app.test_client()
    assert [send(client, "wrong").status_code for _ in range(3)] == [401, 401, 401]
    flooded = send(client, "wrong")
    assert flooded.status_code == 429 and int(flooded.headers["Retry-After"]) >= 1
    assert "badly signed" in flooded.get_json()["error"]["message"]
    assert send(client, "wrong", address="198.51.100.7").status_code == 401  # another address: its own allowance
    assert send(client, address="198.51.100.7").status_code == 202
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1


def test_the_limit_is_split_over_the_web_processes(app_with):
    """With 4 web processes each takes a quarter: rate_limit 4 is 1 a second here, a burst of 2."""
    client = app_with(settings={"rate_limit": 4}, WEB_PROCESSES=4).test_client()
    assert [send(client).status_code for _ in range(3)] == [202, 202, 429]


@pytest.mark.parametrize("value", [0, -1, 1.5, "fast", True, 100_001, "9" * 7])
def test_a_bad_rate_limit_setting_is_400(token, client, channel, value):
    """rate_limit is a whole number of deliveries a second, 1 to 100,000."""
    response = client.patch("/api/v1/channels/forum", json={"settings": {"rate_limit": value}},
                            headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400 and "settings.rate_limit" in response.get_json()["error"]["message"]


def test_rate_limit_is_set_from_the_api_and_the_cli(app, token, client, channel, runner):
    """Every kind takes rate_limit; the admin API and `flask channel update --rate-limit` both set it."""
    changed = client.patch("/api/v1/channels/forum", json={"settings": {"rate_limit": 50}},
                           headers={"Authorization": f"Bearer {token}"}).get_json()
    assert changed["settings"]["rate_limit"] == 50 and "rate_limit" in changed["setting_names"]
    assert runner.invoke(args=["channel", "update", "forum", "--rate-limit", "75"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(sa.select(Channel.settings))["rate_limit"] == 75
