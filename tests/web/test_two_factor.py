"""TOTP second factor over HTTP: enrolment, sign-in with a code or a recovery code, replays, wrong codes,
throttled guesses, turning it off and admins' resets."""

import re
import time

import pyotp
import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from tests.web.test_auth import PASSWORD, csrf_from
from workspace.extensions import db
from workspace.models import Agent, AuditEntry, RecoveryCode
from workspace.services.signin.throttle import Throttled

HOME = "203.0.113.5"


@pytest.fixture
def ana(app):
    """Ana, an agent who signs in with PASSWORD; returns her id."""
    with app.app_context():
        agent = Agent(email="ana@example.com", name="Ana", password_hash=generate_password_hash(PASSWORD))
        db.session.add(agent)
        db.session.commit()
        return agent.id


def post(client, path, **data):
    """POST a form with the page's CSRF token, from HOME."""
    token = csrf_from(client.get("/login", environ_base={"REMOTE_ADDR": HOME}))
    return client.post(path, data={"csrf_token": token, **data}, environ_base={"REMOTE_ADDR": HOME})


def code_at(secret: str, steps_ahead: int = 0) -> str:
    """The authenticator's code for now, or for a later 30-second step."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def enrol(client) -> tuple[str, list[str]]:
    """Sign in as Ana and turn two-factor sign-in on; returns the secret and the recovery codes."""
    assert post(client, "/login", email="ana@example.com", password=PASSWORD).status_code == 302
    page = post(client, "/account/security/two-factor/start").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    confirmed = post(client, "/account/security/two-factor/confirm", code=code_at(secret))
    assert confirmed.status_code == 200
    codes = re.findall(r"<code>([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})</code>",
                       confirmed.get_data(as_text=True))
    post(client, "/logout")
    return secret, codes


def password_step(client):
    """The password part of signing in; the answer should send on to the code step."""
    response = post(client, "/login", email="ana@example.com", password=PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    return response


def signed_in(client) -> bool:
    return client.get("/", environ_base={"REMOTE_ADDR": HOME}).status_code == 200


def test_enrolment_shows_the_secret_uri_and_qr_then_needs_a_right_code(app, client, ana):
    """Setting up shows the key, the otpauth:// link and a QR code (inline SVG); a wrong code leaves it off."""
    post(client, "/login", email="ana@example.com", password=PASSWORD)
    response = post(client, "/account/security/two-factor/start")
    page = response.get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert f"otpauth://totp/Switchboard:ana%40example.com?secret={secret}&amp;issuer=Switchboard" in page
    assert '<svg' in page and 'class="qr"' in page and "<script" not in page
    assert response.headers["Cache-Control"] == "no-store"
    wrong = post(client, "/account/security/two-factor/confirm", code="000000" if code_at(secret) != "000000"
                 else "111111")
    assert wrong.status_code == 401 and "wrong or already used code" in wrong.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Agent, ana).totp_enabled_at is None


def test_enrolled_sign_in_asks_for_the_code_and_a_right_one_signs_in(app, client, ana):
    """After the password, no session until the code; the right code signs in; all of it audited."""
    secret, codes = enrol(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    password_step(client)
    assert not signed_in(client)
    response = post(client, "/login/code", code=code_at(secret, 1))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert signed_in(client)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode).where(
            RecoveryCode.agent_id == ana)) == 10
        assert all(len(row.code_hash) == 64 and "-" not in row.code_hash
                   for row in db.session.scalars(sa.select(RecoveryCode)))
        actions = [entry.action for entry in db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))]
        assert "agent.two_factor_enable" in actions
        assert db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "agent.sign_in")
                                  .order_by(AuditEntry.id.desc())).first().after == {"with": "password+totp"}


def test_the_code_page_without_a_right_password_sends_back_to_sign_in(client, ana):
    """No pending sign-in, no code step: nobody reaches it by URL alone."""
    assert client.get("/login/code").headers["Location"] == "/login"
    assert post(client, "/login/code", code="123456").headers["Location"] == "/login"


@pytest.mark.parametrize("code", ["000000", "12345", "1234567", "abcdef", "", "9" * 5000, "AAAA-BBBB-CCCC-DDDD"])
def test_wrong_codes_are_refused(client, ana, code):
    """Wrong, malformed, empty, huge codes and unknown recovery codes: 401, not signed in."""
    secret, _ = enrol(client)
    password_step(client)
    if code in {code_at(secret, step) for step in (-1, 0, 1)}:
        code = "AAAA-BBBB-CCCC-DDDD"
    response = post(client, "/login/code", code=code)
    assert response.status_code == 401 and "wrong or already used code" in response.get_data(as_text=True)
    assert not signed_in(client)


def test_a_code_works_only_once(client, ana):
    """A code that signed in cannot sign in again (replay), nor can one of an earlier step."""
    secret, _ = enrol(client)
    password_step(client)
    assert post(client, "/login/code", code=code_at(secret, 1)).status_code == 302
    post(client, "/logout")
    password_step(client)
    for replayed in (code_at(secret, 1), code_at(secret)):
        response = post(client, "/login/code", code=replayed)
        assert response.status_code == 401, replayed
    assert not signed_in(client)


def test_a_recovery_code_signs_in_once(app, client, ana):
    """Each recovery code works exactly once, typed with or without dashes, in any case."""
    _, codes = enrol(client)
    password_step(client)
    assert post(client, "/login/code", code=codes[0].replace("-", "").lower()).status_code == 302
    post(client, "/logout")
    password_step(client)
    assert post(client, "/login/code", code=codes[0]).status_code == 401
    assert post(client, "/login/code", code=codes[1]).status_code == 302
    page = client.get("/account/security", environ_base={"REMOTE_ADDR": HOME}).get_data(as_text=True)
    assert "8 recovery codes left" in page


def test_code_guesses_are_throttled(app, client, ana):
    """Past the free wrong codes, the next guess (even a right code) waits: 429 with Retry-After."""
    app.config.update(LOGIN_FIRST_DELAY_SECONDS=100)
    secret, _ = enrol(client)
    password_step(client)
    for _ in range(app.config["LOGIN_FREE_FAILURES_PER_PAIR"] + 1):
        assert post(client, "/login/code", code="AAAA-BBBB-CCCC-DDDD").status_code == 401
    response = post(client, "/login/code", code=code_at(secret, 1))
    assert response.status_code == 429 and 90 <= int(response.headers["Retry-After"]) <= 100
    assert "too many failed attempts" in response.get_data(as_text=True)
    assert not signed_in(client)


def test_a_stale_pending_sign_in_needs_the_password_again(app, client, ana):
    """The code must follow the password within TWO_FACTOR_PENDING_SECONDS."""
    secret, _ = enrol(client)
    password_step(client)
    with client.session_transaction() as session:
        pending = session["second_factor"]
        pending["since"] -= app.config["TWO_FACTOR_PENDING_SECONDS"] + 1
        session["second_factor"] = pending
    assert post(client, "/login/code", code=code_at(secret, 1)).headers["Location"] == "/login"
    assert not signed_in(client)


def test_turning_it_off_needs_the_password_or_a_code(app, client, ana):
    """Without proof, or with a wrong password, it stays on; with the password it goes off (audited)."""
    secret, codes = enrol(client)
    password_step(client)
    post(client, "/login/code", code=codes[0])
    assert post(client, "/account/security/two-factor/disable").status_code == 400
    assert post(client, "/account/security/two-factor/disable", password="wrong").status_code == 401
    with app.app_context():
        assert db.session.get(Agent, ana).totp_enabled_at is not None
    response = post(client, "/account/security/two-factor/disable", password=PASSWORD)
    assert response.status_code == 200 and "Two-factor sign-in is off." in response.get_data(as_text=True)
    with app.app_context():
        agent = db.session.get(Agent, ana)
        assert agent.totp_secret is None and agent.totp_enabled_at is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0
        assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "agent.two_factor_disable"))
    post(client, "/logout")
    assert post(client, "/login", email="ana@example.com", password=PASSWORD).headers["Location"] == "/"


def test_turning_it_off_with_a_code(app, client, ana):
    """A current code proves it too."""
    secret, _ = enrol(client)
    password_step(client)
    post(client, "/login/code", code=code_at(secret, 1))
    with app.app_context():  # let the test use a fresh step's code again
        db.session.get(Agent, ana).totp_last_step -= 5
        db.session.commit()
    assert post(client, "/account/security/two-factor/disable", code=code_at(secret)).status_code == 200
    with app.app_context():
        assert db.session.get(Agent, ana).totp_enabled_at is None


def test_admins_reset_an_agents_second_factor_and_it_is_audited(app, client, ana, token_for, as_token):
    """An admin's DELETE turns it off (204, audited); an agent may not; an unknown agent is 404."""
    enrol(client)
    assert as_token(token_for("agent", "bob@example.com"))("delete", f"/agents/{ana}/two-factor").status_code == 403
    admin = as_token(token_for("admin", "root@example.com"))
    shown = {row["email"]: row["two_factor"] for row in admin("get", "/agents").get_json()["data"]}
    assert shown == {"ana@example.com": True, "bob@example.com": False, "root@example.com": False}
    assert admin("delete", f"/agents/{ana}/two-factor").status_code == 204
    missing = admin("delete", "/agents/999999/two-factor")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "agent.two_factor_reset"))
        assert entry.target_id == ana and entry.before == {"two_factor": True}
        assert db.session.get(Agent, ana).totp_enabled_at is None
    assert post(client, "/login", email="ana@example.com", password=PASSWORD).headers["Location"] == "/"


def test_the_throttle_answers_the_api_in_the_one_error_shape(app, client, ana):
    """A throttled attempt reaching the JSON error handler: 429, Retry-After and the envelope."""
    @app.get("/throttled-probe")
    def probe():
        raise Throttled(7)

    response = client.get("/throttled-probe")
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"
    assert response.get_json() == {"error": {"code": "too_many_attempts",
                                             "message": "too many failed attempts; try again in 7 seconds"}}
