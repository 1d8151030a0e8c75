"""Presence on a conversation: who views, who types, and the soft lock that others take over explicitly."""

import pytest

from tests.factories import make_post
from tests.web.test_auth import socket_app  # noqa: F401  (fixture)
from workspace.extensions import socketio


@pytest.fixture
def conversation_id(deliver):
    return deliver(make_post()).get_json()["conversation_id"]


def last_presence(client) -> dict:
    events = [e for e in client.get_received() if e["name"] == "presence"]
    return events[-1]["args"][0] if events else {}


def test_viewers_typing_lock_and_take_over(socket_app, token_for, conversation_id):  # noqa: F811
    """Two agents on one conversation see each other; the typist locks it; the other takes over; leaving frees it."""
    ana = socketio.test_client(socket_app, auth={"token": token_for("supervisor", email="ana@x.org", name="Ana")})
    bob = socketio.test_client(socket_app, auth={"token": token_for("supervisor", email="bob@x.org", name="Bob")})
    assert ana.emit("view", {"conversation_id": conversation_id}, callback=True) == {"ok": True}
    bob.emit("view", {"conversation_id": conversation_id}, callback=True)
    seen = last_presence(ana)
    assert [v["name"] for v in seen["viewers"]] == ["Ana", "Bob"] and seen["lock"] is None
    assert ana.emit("typing", {"conversation_id": conversation_id}, callback=True) == {"ok": True, "lock": True}
    seen = last_presence(bob)
    assert [t["name"] for t in seen["typing"]] == ["Ana"] and seen["lock"]["agent"]["name"] == "Ana"
    assert bob.emit("typing", {"conversation_id": conversation_id}, callback=True)["lock"] is False
    bob.emit("take_over", {"conversation_id": conversation_id}, callback=True)
    assert last_presence(ana)["lock"]["agent"]["name"] == "Bob"
    bob.disconnect()
    seen = last_presence(ana)
    assert [v["name"] for v in seen["viewers"]] == ["Ana"] and seen["lock"] is None
    ana.disconnect()


def test_an_agent_cannot_watch_a_conversation_outside_their_queues(socket_app, token_for, conversation_id):  # noqa: F811
    """Viewing needs the same visibility as the API."""
    kofi = socketio.test_client(socket_app, auth={"token": token_for("agent", email="kofi@x.org")})
    assert kofi.emit("view", {"conversation_id": conversation_id}, callback=True) == {"ok": False}
    assert kofi.emit("view", {"conversation_id": "1; DROP"}, callback=True) == {"ok": False}
    kofi.disconnect()
