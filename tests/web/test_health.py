"""Liveness and readiness, and what a request gets while the database is down."""

import json

from redis.exceptions import ConnectionError as RedisConnectionError

from devstack.localredis import free_port
from tests.factories import SECRET, make_config, make_post
from workspace import create_app
from workspace.channels.signature import sign


def test_healthz_is_200_when_database_and_redis_answer(client):
    """Both dependencies reachable: 200 and each named ok."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


def test_healthz_is_503_naming_redis_when_it_is_down(app, client):
    """With Redis unreachable, 503 says which dependency failed."""
    app.extensions["redis"].connection_pool.connection_kwargs.update(port=1)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"].startswith("unreachable")


def test_ping_touches_nothing(client):
    """/ping answers even before anything is configured."""
    assert client.get("/ping").get_data(as_text=True) == "pong"


def test_a_database_that_does_not_answer_is_a_503_with_retry_after_not_a_500(redis_url):
    """A webhook, or an API call, while the database is down (nothing listens on its port, as during a
    restart): 503 in the error envelope with Retry-After, so the sender tries again; never a 500."""
    down = create_app(make_config(SQLALCHEMY_DATABASE_URI=f"postgresql://postgres@127.0.0.1:{free_port()}/gone",
                                  REDIS_URL=redis_url))
    client = down.test_client()
    body = json.dumps(make_post()).encode()
    answers = [client.post("/webhooks/forum", data=body, headers={
                   "Content-Type": "application/json", "X-Switchboard-Signature": sign(SECRET, body)}),
               client.get("/api/v1/queues", headers={"Authorization": "Bearer some-token"})]
    for answer in answers:
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
        assert answer.get_json()["error"]["code"] == "unavailable"


def test_an_outage_error_without_a_message_is_still_a_503(app, client):
    """Redis can raise its ConnectionError bare: the 503 handler's log line must not fail on the empty message
    (which made the handler itself raise, and the answer a 500)."""

    def lost() -> None:
        raise RedisConnectionError()

    app.add_url_rule("/lost-redis", view_func=lost)
    answer = client.get("/lost-redis")
    assert answer.status_code == 503 and answer.get_json()["error"]["code"] == "unavailable"
