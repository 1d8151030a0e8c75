"""The customer panel's API: tags and internal notes on authors, audited."""

import pytest
import sqlalchemy as sa

from tests.factories import make_post
from tests.web.test_api import validate
from workspace.extensions import db
from workspace.models import AuditEntry


@pytest.fixture
def author_id(deliver, api):
    conversation_id = deliver(make_post()).get_json()["conversation_id"]
    return api(f"/conversations/{conversation_id}").get_json()["author"]["id"]


@pytest.fixture
def call(client, token):
    def call(method, path, **kwargs):
        return getattr(client, method)(f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, **kwargs)
    return call


def test_notes_are_added_edited_and_deleted_with_who_and_when(app, call, author_id):
    """A note shows its writer and time; edits and deletions are audited with the old text."""
    note = call("post", f"/authors/{author_id}/notes", json={"text": "Prefers email"}).get_json()
    assert note["agent"]["email"] == "ada@example.com" and note["created_at"]
    edited = call("patch", f"/authors/{author_id}/notes/{note['id']}", json={"text": "Prefers phone"}).get_json()
    assert edited["text"] == "Prefers phone"
    profile = call("get", f"/authors/{author_id}").get_json()
    validate(profile, "AuthorDetail")
    assert [n["text"] for n in profile["notes"]] == ["Prefers phone"]
    assert call("delete", f"/authors/{author_id}/notes/{note['id']}").status_code == 204
    assert call("get", f"/authors/{author_id}").get_json()["notes"] == []
    with app.app_context():
        entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [e.action for e in entries] == ["author.note.create", "author.note.update", "author.note.delete"]
        assert entries[1].before == {"text": "Prefers email"} and entries[2].before == {"text": "Prefers phone"}


def test_customer_tags_are_normalised_and_shown_on_their_conversations(call, api, author_id):
    """Tagging a customer VIP shows on the customer and on every conversation of theirs."""
    tagged = call("patch", f"/authors/{author_id}", json={"tags": ["VIP", "vip", "problem"]}).get_json()
    assert tagged["tags"] == ["problem", "vip"]
    conversation = call("get", f"/authors/{author_id}").get_json()["conversations"][0]
    assert conversation["author"]["tags"] == ["problem", "vip"]


@pytest.mark.parametrize("method,path,body", [
    ("post", "/notes", {"text": ""}), ("post", "/notes", {"text": "x" * 5001}), ("post", "/notes", ["x"]),
    ("patch", "", {"tags": "vip"}), ("patch", "", {"name": "Bob"}),
])
def test_bad_customer_changes_are_400(call, author_id, method, path, body):
    """Empty or huge notes, and anything but tags on the profile, are refused."""
    assert call(method, f"/authors/{author_id}{path}", json=body).status_code == 400


def test_a_note_of_another_customer_is_not_found(call, deliver, api, author_id):
    """Note ids are checked against the customer in the URL."""
    note = call("post", f"/authors/{author_id}/notes", json={"text": "n"}).get_json()
    other = api(f"/conversations/{deliver(make_post(author={'id': 'x', 'handle': 'x'})).get_json()['conversation_id']}")
    other_id = other.get_json()["author"]["id"]
    assert call("delete", f"/authors/{other_id}/notes/{note['id']}").status_code == 404
