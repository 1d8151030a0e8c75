"""API tokens: scopes, expiry, revocation, listing, last_used_at, the CLI and the 0016 backfill."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from tests.models.test_migrations import MIGRATIONS, database_at
from workspace.extensions import db
from workspace.models import Agent, ApiToken, AuditEntry, hash_token, utcnow


@pytest.fixture
def issue(app):
    """Issue a token directly: issue(role, scopes=None, expires_at=None, email=...) -> (token id, secret)."""

    def issue(role="agent", scopes=None, expires_at=None, email=None):
        with app.app_context():
            email = email or f"{role}@example.com"
            agent = db.session.scalar(sa.select(Agent).where(Agent.email == email)) or Agent(
                email=email, name=role.title(), role=role)
            row, secret = ApiToken.issue(agent, "tests", scopes, expires_at)
            db.session.add_all([agent, row])
            db.session.commit()
            return row.id, secret

    return issue


def error_of(response) -> tuple[int, str, str]:
    body = response.get_json()
    return response.status_code, body["error"]["code"], body["error"]["message"]


def test_a_read_token_reads_but_cannot_write_and_is_told_which_scope(issue, as_token, channel):
    """GET works with `read`; a POST answers 403 naming the `write` scope, in the one error shape."""
    _, secret = issue("agent", ["read"])
    call = as_token(secret)
    assert call("get", "/queues").status_code == 200
    status, code, message = error_of(call("post", "/conversations/next", json={}))
    assert (status, code) == (403, "insufficient_scope") and "write" in message


def test_a_write_only_token_cannot_read(issue, as_token, channel):
    """Scopes are not nested: `write` alone does not read."""
    _, secret = issue("agent", ["write"])
    status, code, message = error_of(as_token(secret)("get", "/queues"))
    assert (status, code) == (403, "insufficient_scope") and "read" in message


def test_admin_endpoints_need_the_admin_scope_even_for_an_admin(issue, as_token, channel):
    """An admin's read+write token cannot reach admin endpoints; with `admin` it can."""
    _, limited = issue("admin", ["read", "write"])
    status, code, message = error_of(as_token(limited)("get", "/channels"))
    assert (status, code) == (403, "insufficient_scope") and "admin" in message
    _, full = issue("admin", ["admin"], email="root@example.com")
    assert as_token(full)("get", "/channels").status_code == 200


def test_the_webhooks_scope_reaches_channels_and_nothing_else(issue, as_token, channel):
    """An integration's token reads channels and rotates a secret, but cannot list agents or read queues."""
    _, secret = issue("admin", ["webhooks"])
    call = as_token(secret)
    assert call("get", "/channels").get_json()["data"][0]["slug"] == "forum"
    assert call("patch", "/channels/forum", json={"rotate_secret": True}).status_code == 200
    assert error_of(call("post", "/queues", json={"slug": "x", "name": "X"}))[:2] == (403, "insufficient_scope")
    assert error_of(call("get", "/queues"))[:2] == (403, "insufficient_scope")


def test_a_token_never_exceeds_its_agent(issue, as_token, app, channel):
    """An agent's token cannot be given admin or webhooks; by default it gets read+write; and even a row written
    by hand with every scope gets no further than the agent's role."""
    _, secret = issue("agent", ["read", "write"])
    refused = as_token(secret)("post", "/tokens", json={"name": "more", "scopes": ["admin"]})
    assert error_of(refused)[:2] == (403, "scope_not_allowed")
    assert as_token(secret)("post", "/tokens", json={"name": "default"}).get_json()["scopes"] == ["read", "write"]
    with app.app_context():
        agent = db.session.scalar(sa.select(Agent).where(Agent.email == "agent@example.com"))
        db.session.add(ApiToken(agent=agent, name="forged", token_hash=hash_token("sb_forged"),
                                scopes="read write admin webhooks"))
        db.session.commit()
    assert error_of(as_token("sb_forged")("get", "/channels"))[:2] == (403, "forbidden")


def test_a_token_cannot_issue_a_broader_token(issue, as_token, app):
    """A read+write admin token cannot mint an admin-scoped one; by default a new token gets the caller's scopes."""
    _, secret = issue("admin", ["read", "write"])
    call = as_token(secret)
    assert error_of(call("post", "/tokens", json={"name": "x", "scopes": ["admin"]}))[:2] == (403, "scope_not_allowed")
    made = call("post", "/tokens", json={"name": "ci"})
    assert made.status_code == 201 and made.get_json()["scopes"] == ["read", "write"]


@pytest.mark.parametrize("field,value,fragment", [
    ("scopes", ["root"], "scopes[0]: one of read, write, admin, webhooks"), ("scopes", [], "scopes: at least 1"),
    ("scopes", "read", "scopes: must be array"),
    ("expires", "yesterday", "expires"), ("expires", "2001-01-01", "future"), ("expires", "99999d", "5 years"),
    ("name", "", "name"), ("name", "x" * 121, "name"), ("colour", "red", "unknown field")])
def test_bad_token_requests_are_400_naming_the_field(issue, as_token, field, value, fragment):
    """Every malformed field of a new token is a 400 in the one shape."""
    _, secret = issue("agent")
    body = {"name": "ok", field: value}
    status, code, message = error_of(as_token(secret)("post", "/tokens", json=body))
    assert status == 400 and fragment in message


def test_listing_shows_dates_and_scopes_never_the_secret(issue, as_token, app):
    """The owner's list has name, scopes, created, expires and last used; no secret or hash anywhere."""
    _, secret = issue("agent")
    made = as_token(secret)("post", "/tokens", json={"name": "laptop", "scopes": ["read"], "expires": "30d"})
    new_secret = made.get_json()["token"]
    listed = as_token(secret)("get", "/tokens")
    text = listed.get_data(as_text=True)
    assert secret not in text and new_secret not in text and "token_hash" not in text and '"token"' not in text
    laptop = next(t for t in listed.get_json()["data"] if t["name"] == "laptop")
    assert laptop["scopes"] == ["read"] and laptop["expires_at"] > laptop["created_at"]
    assert laptop["last_used_at"] is None and laptop["revoked_at"] is None


def test_an_expired_token_gets_401_in_the_one_shape(issue, as_token):
    """Past its expiry a token is refused with token_expired."""
    _, secret = issue("agent", expires_at=utcnow() - timedelta(seconds=1))
    assert error_of(as_token(secret)("get", "/queues"))[:2] == (401, "token_expired")


def test_the_owner_revokes_a_token_and_it_stops_at_once_audited(issue, as_token, app, channel):
    """After DELETE the token gets 401; the revocation is in the audit log without the secret."""
    token_id, secret = issue("agent")
    other_id, other = issue("agent", email="other@example.com")
    call = as_token(other)
    assert call("delete", f"/tokens/{token_id}").status_code == 404  # someone else's: not even there
    assert as_token(secret)("delete", f"/tokens/{token_id}").get_json()["revoked_at"]
    assert error_of(as_token(secret)("get", "/queues"))[:2] == (401, "invalid_token")
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "token.revoke"))
        assert entry.target_id == token_id and entry.after["revoked_at"] and secret not in str(entry.after)


def test_admins_list_issue_and_revoke_any_agents_tokens(issue, as_token, app):
    """With the admin scope an admin lists, issues (within the agent's rights) and revokes another's tokens."""
    agent_token, agent_secret = issue("agent")
    _, admin_secret = issue("admin")
    with app.app_context():
        agent_id = db.session.scalar(sa.select(Agent.id).where(Agent.email == "agent@example.com"))
    call = as_token(admin_secret)
    assert [t["id"] for t in call("get", f"/agents/{agent_id}/tokens").get_json()["data"]] == [agent_token]
    too_much = call("post", f"/agents/{agent_id}/tokens", json={"name": "bot", "scopes": ["admin"]})
    assert error_of(too_much)[:2] == (403, "scope_not_allowed")
    assert call("post", f"/agents/{agent_id}/tokens", json={"name": "bot"}).get_json()["scopes"] == ["read", "write"]
    assert call("delete", f"/agents/{agent_id}/tokens/{agent_token}").status_code == 200
    assert as_token(agent_secret)("get", "/tokens").status_code == 401
    # /tokens/<id> is for one's own tokens only, admins included: another's is not found there.
    other_id, _ = issue("agent", email="third@example.com")
    assert call("delete", f"/tokens/{other_id}").status_code == 404


def test_last_used_at_is_written_at_most_once_a_minute(issue, as_token, app):
    """The first use writes last_used_at; uses within the minute do not; one after it does."""
    token_id, secret = issue("agent")
    call = as_token(secret)
    call("get", "/tokens")
    with app.app_context():
        first = db.session.get(ApiToken, token_id).last_used_at
    assert first is not None
    call("get", "/tokens")
    with app.app_context():
        row = db.session.get(ApiToken, token_id)
        assert row.last_used_at == first
        row.last_used_at = first - timedelta(minutes=2)
        db.session.commit()
    call("get", "/tokens")
    with app.app_context():
        assert db.session.get(ApiToken, token_id).last_used_at > first - timedelta(minutes=2)


def test_the_cli_issues_scoped_expiring_tokens_and_lists_and_revokes(app, runner, as_token):
    """`flask token create --scope --expires` prints only the secret; list shows it; revoke ends it."""
    runner.invoke(args=["agent", "create", "ana@example.com", "--name", "Ana", "--password", "pw-long-enough"])
    result = runner.invoke(args=["token", "create", "ana@example.com", "--name", "ci", "--scope", "read",
                                 "--expires", "7d"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    assert error_of(as_token(secret)("post", "/tokens", json={"name": "x"}))[:2] == (403, "insufficient_scope")
    listed = runner.invoke(args=["token", "list", "ana@example.com"]).output
    assert "ci" in listed and "read" in listed and secret not in listed
    refused = runner.invoke(args=["token", "create", "ana@example.com", "--scope", "admin"])
    assert refused.exit_code != 0 and "admins" in refused.output
    with app.app_context():
        token_id = db.session.scalar(sa.select(ApiToken.id))
    assert runner.invoke(args=["token", "revoke", str(token_id)]).exit_code == 0
    assert as_token(secret)("get", "/queues").status_code == 401


def test_migration_0016_keeps_every_existing_token_working_with_all_it_could_do(app):
    """Tokens from before 0016 get read+write, and admins' tokens admin+webhooks too; none expires."""
    with app.app_context():
        database_at("0013")
        with db.engine.begin() as connection:
            for number, role in ((1, "agent"), (2, "admin")):
                connection.execute(sa.text(
                    "INSERT INTO agents (id, email, name, role, active, session_version, capacity, created_at) "
                    f"VALUES ({number}, '{role}@example.com', 'X', '{role}', true, 1, 10, CURRENT_TIMESTAMP)"))
                connection.execute(sa.text(
                    "INSERT INTO api_tokens (agent_id, name, token_hash, created_at) "
                    f"VALUES ({number}, 'old', '{number:064d}', CURRENT_TIMESTAMP)"))
        upgrade(directory=MIGRATIONS)
        with db.engine.begin() as connection:
            rows = connection.execute(sa.text(
                "SELECT agent_id, scopes, expires_at, revoked_at FROM api_tokens ORDER BY agent_id")).all()
            connection.execute(sa.text("DROP TABLE alembic_version"))
    assert [tuple(row) for row in rows] == [(1, "read write", None, None),
                                            (2, "read write admin webhooks", None, None)]
