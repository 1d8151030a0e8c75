"""Behind nginx (SWITCHBOARD_PROXY_COUNT=1) the app sees the client nginx saw, never an address the client
wrote itself; with no proxy configured, X-Forwarded-For is ignored."""

import pytest
from flask import request

from tests.factories import make_config
from workspace import create_app


def address_seen(proxies: int, database_url: str, redis_url: str, **headers) -> str:
    """The remote address a view sees for a request with these headers."""
    app = create_app(make_config(SQLALCHEMY_DATABASE_URI=database_url, REDIS_URL=redis_url, PROXY_COUNT=proxies))
    app.add_url_rule("/address", "address", lambda: request.remote_addr)
    return app.test_client().get("/address", headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"}).text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_one_trusted_proxy_gives_the_address_it_saw(database_url, redis_url):
    """nginx appends the address it saw; only that last hop is believed, not one the client put before it."""
    assert address_seen(1, database_url, redis_url, **{"X-Forwarded-For": "203.0.113.7"}) == "203.0.113.7"
    assert address_seen(1, database_url, redis_url, **{"X-Forwarded-For": "6.6.6.6, 203.0.113.7"}) == "203.0.113.7"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_without_a_proxy_forwarded_headers_are_ignored(database_url, redis_url):
    """A client talking to the web process directly cannot pick its own address."""
    assert address_seen(0, database_url, redis_url, **{"X-Forwarded-For": "203.0.113.7"}) == "127.0.0.1"
