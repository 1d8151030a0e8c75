"""Per-kind channel settings: set from the admin API and the CLI, checked, and platform secrets never shown."""

import json

import pytest
import sqlalchemy as sa

from tests.web.test_api import validate
from workspace.extensions import db
from workspace.models import AuditEntry, Channel

API_KEY = "d1s2c3o4u5r6s7e8-api-key"


@pytest.fixture
def admin_call(client, token):
    """Call the admin API as Ada: admin_call('post', '/channels', json=...)."""

    def call(method, path, **kwargs):
        return getattr(client, method)(f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, **kwargs)

    return call


def test_a_discourse_channel_is_created_with_its_settings_and_the_api_key_is_never_shown(app, admin_call):
    """The API key is stored, reported only as set, and kept out of the audit log."""
    created = admin_call("post", "/channels", json={"slug": "community", "kind": "discourse", "settings": {
        "base_url": "https://forum.example.com/", "api_key": API_KEY, "api_username": "switchboard"}})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    validate(body, "ChannelAdmin")
    assert body["settings"] == {"base_url": "https://forum.example.com", "api_key_set": True,
                                "api_username": "switchboard"}
    assert body["write_only_settings"] == ["api_key"]
    listed = admin_call("get", "/channels").get_data(as_text=True)
    assert API_KEY not in listed and API_KEY not in created.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(Channel.settings))["api_key"] == API_KEY
        audit = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "channel.create"))
        assert API_KEY not in json.dumps(audit.after)


def test_settings_change_one_at_a_time_and_null_removes_one(app, admin_call):
    """A PATCH changes only the settings it names; null removes a setting."""
    admin_call("post", "/channels", json={"slug": "mentions", "kind": "x", "settings": {
        "consumer_secret": "x-consumer-secret", "user_id": "2244994945"}})
    changed = admin_call("patch", "/channels/mentions", json={"settings": {
        "callback_url": "https://relay.example.com/x", "user_id": None}}).get_json()
    assert changed["settings"] == {"consumer_secret_set": True, "callback_url": "https://relay.example.com/x"}
    admin_call("patch", "/channels/mentions", json={"settings": {"consumer_secret": "a-new-consumer-secret"}})
    with app.app_context():
        last = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert last.after["settings_changed"] == ["consumer_secret"] and "a-new-consumer" not in json.dumps(last.after)


@pytest.mark.parametrize("kind,settings,field", [
    ("native", {"api_key": "abcdefgh1234"}, "settings.api_key"),
    ("native", {"callback_url": "ftp://relay.example.com"}, "settings.callback_url"),
    ("native", {"callback_url": "javascript:alert(1)"}, "settings.callback_url"),
    ("discourse", {"api_username": "no spaces allowed"}, "settings.api_username"),
    ("discourse", {"api_key": "short"}, "settings.api_key"),
    ("x", {"user_id": "@acme"}, "settings.user_id"),
    ("x", {"user_id": 2244994945}, "settings.user_id"),
    ("khoros", "not an object", "settings"),
])
def test_bad_settings_are_refused_by_name_and_nothing_is_created(app, admin_call, kind, settings, field):
    """A setting the kind does not take, or a malformed value, is a 400 naming it."""
    response = admin_call("post", "/channels", json={"slug": "c1", "kind": kind, "settings": settings})
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].startswith(field)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Channel)) == 0


def test_the_cli_creates_and_updates_a_channel_with_settings(app, runner):
    """`flask channel create --kind discourse ...` and `flask channel update` store checked settings."""
    result = runner.invoke(args=["channel", "create", "community", "--kind", "discourse", "--base-url",
                                 "https://forum.example.com", "--api-key", API_KEY, "--api-username", "switchboard"])
    assert result.exit_code == 0, result.output
    updated = runner.invoke(args=["channel", "update", "community", "--api-username", "support-bot"])
    assert updated.exit_code == 0 and API_KEY not in updated.output
    with app.app_context():
        assert db.session.scalar(sa.select(Channel.settings)) == {
            "base_url": "https://forum.example.com", "api_key": API_KEY, "api_username": "support-bot"}


def test_the_cli_refuses_settings_the_kind_does_not_take(app, runner):
    """A Discourse option on a native channel, or a bad URL, fails with the reason and creates nothing."""
    wrong_kind = runner.invoke(args=["channel", "create", "feed", "--api-key", API_KEY])
    assert wrong_kind.exit_code != 0 and "not a native setting" in wrong_kind.output
    bad_url = runner.invoke(args=["channel", "create", "feed", "--callback-url", "relay.example.com"])
    assert bad_url.exit_code != 0 and "http or https URL" in bad_url.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Channel)) == 0
