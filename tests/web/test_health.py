"""Liveness and readiness."""


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
