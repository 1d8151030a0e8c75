"""Signing in and out of the console; sessions, CSRF, rate limits and authenticated sockets."""

import re

import pytest
from werkzeug.security import generate_password_hash

from workspace.extensions import db, socketio
from workspace.models import Agent, AuditEntry

PASSWORD = "correct horse battery staple"


@pytest.fixture
def ana(app):
    """An agent who can sign in with PASSWORD."""
    with app.app_context():
        agent = Agent(email="ana@example.com", name="Ana", role="agent",
                      password_hash=generate_password_hash(PASSWORD))
        db.session.add(agent)
        db.session.commit()
        return agent.id


def csrf_from(response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True)).group(1)


def sign_in(client, email="ana@example.com", password=PASSWORD, **extra):
    token = csrf_from(client.get("/login"))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token, **extra})


def test_the_console_needs_a_signed_in_agent(client, ana):
    """Anonymous visitors are sent to the sign-in page."""
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_sign_in_opens_the_console_with_safe_cookies(app, client, ana):
    """A right password starts an HttpOnly, SameSite session and shows the console; it is audited."""
    response = sign_in(client)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Ana" in client.get("/").get_data(as_text=True)
    with app.app_context():
        assert db.session.query(AuditEntry).filter_by(action="agent.sign_in").count() == 1


def test_passwords_are_stored_with_a_modern_hash(app, ana):
    """No plain or fast-hashed passwords: werkzeug's scrypt."""
    with app.app_context():
        assert db.session.get(Agent, ana).password_hash.startswith("scrypt:")


@pytest.mark.parametrize("email,password", [("ana@example.com", "wrong"), ("nobody@example.com", PASSWORD)])
def test_wrong_credentials_are_refused_without_saying_which(client, ana, email, password):
    """A wrong password and an unknown email get the same answer."""
    response = sign_in(client, email=email, password=password)
    assert response.status_code == 401 and "wrong email or password" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_sign_in_without_a_csrf_token_is_refused(client, ana):
    """The form must carry its CSRF token."""
    response = client.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_next_only_redirects_within_the_site(client, ana):
    """An open redirect through ?next= to another site is ignored."""
    token = csrf_from(client.get("/login"))
    response = client.post("/login?next=https://evil.example/", data={
        "email": "ana@example.com", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_session_writes_to_the_api_need_the_csrf_header(client, ana, channel):
    """A signed-in browser's PATCH without X-CSRFToken is refused; with it, it goes through."""
    sign_in(client)
    refused = client.post("/api/v1/rules", json={"name": "x"})
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "csrf_failed"
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)
    allowed = client.post("/api/v1/rules", json={"name": "x"}, headers={"X-CSRFToken": token})
    assert allowed.status_code == 403  # CSRF passed; an agent is simply not an admin


def test_sign_out_everywhere_ends_every_session(app, ana):
    """Two browsers signed in; 'everywhere' from one signs out both."""
    first, second = app.test_client(), app.test_client()
    sign_in(first)
    sign_in(second)
    token = csrf_from(first.get("/"))
    first.post("/logout", data={"csrf_token": token, "everywhere": "1"})
    assert first.get("/").status_code == 302
    assert second.get("/").status_code == 302


@pytest.fixture
def socket_app(app):
    """The same app's database and Redis, without the Socket.IO message queue (the test client's limit)."""
    from tests.factories import make_config
    from workspace import create_app

    config = {key: app.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "REDIS_URL", "RQ_QUEUE", "MODEL_DIR")}
    return create_app(make_config(SOCKETIO_MESSAGE_QUEUE=None, **config))


def test_sockets_refuse_anonymous_and_accept_sessions_and_tokens(socket_app, ana, token):
    """A socket without a session or token is refused; with either it connects."""
    app = socket_app
    client = app.test_client()
    anonymous = socketio.test_client(app, flask_test_client=app.test_client())
    assert not anonymous.is_connected()
    sign_in(client)
    signed_in = socketio.test_client(app, flask_test_client=client)
    assert signed_in.is_connected()
    signed_in.disconnect()
    by_token = socketio.test_client(app, auth={"token": token})
    assert by_token.is_connected()
    by_token.disconnect()
