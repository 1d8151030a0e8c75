"""The customer panel's API: tags and internal notes on authors, audited."""

import pytest
import sqlalchemy as sa

from tests.factories import join_queue, make_post
from tests.web.test_api import validate
from workspace.extensions import db
from workspace.jobs.dispatch import dispatch_once
from workspace.models import AuditEntry, Conversation, Queue


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


def test_tagging_a_customer_vip_re_prioritises_their_open_conversations(app, call, api, deliver, run_jobs):
    """A VIP tag raises the customer's routed conversation at once (its explanation says why); taking it away
    lowers it again; a priority an agent chose by hand is left as they chose it."""
    first = deliver(make_post(text="Where is my parcel?", author={"id": "v1", "handle": "vee"})).get_json()
    second = deliver(make_post(text="Also, my address changed", author={"id": "v1", "handle": "vee"},
                               thread_id="other")).get_json()
    with app.app_context():
        dispatch_once(100)
    run_jobs()
    conversation = api(f"/conversations/{first['conversation_id']}").get_json()
    assert conversation["priority"] == "normal"
    author_id = conversation["author"]["id"]
    assert call("patch", f"/authors/{author_id}", json={"tags": ["vip"]}).status_code == 200
    raised = api(f"/conversations/{first['conversation_id']}").get_json()
    assert raised["priority"] == "high"
    assert "vip" in [reason["factor"] for reason in raised["priority_reasons"]]
    call("patch", f"/authors/{author_id}", json={"tags": []})
    assert api(f"/conversations/{first['conversation_id']}").get_json()["priority"] == "normal"
    if second["conversation_id"] != first["conversation_id"]:
        call("patch", f"/conversations/{second['conversation_id']}", json={"priority": "low"})
        call("patch", f"/authors/{author_id}", json={"tags": ["vip"]})
        assert api(f"/conversations/{second['conversation_id']}").get_json()["priority"] == "low"


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


def place(app, conversation_id: int, slug: str | None) -> None:
    """Put a conversation in a queue (or none, as before routing) without going through routing."""
    with app.app_context():
        queue_id = db.session.scalar(sa.select(Queue.id).where(Queue.slug == slug)) if slug else None
        db.session.get(Conversation, conversation_id).queue_id = queue_id
        db.session.commit()


@pytest.fixture
def billing_customer(app, deliver, call):
    """A customer seen only in billing, tagged vip, with an internal note by Ada (an admin): (author id, note id)."""
    conversation_id = deliver(make_post(author={"id": "b1", "handle": "bill", "email": "bill@example.com"})
                              ).get_json()["conversation_id"]
    place(app, conversation_id, "billing")
    author_id = call("get", f"/conversations/{conversation_id}").get_json()["author"]["id"]
    call("patch", f"/authors/{author_id}", json={"tags": ["vip"]})
    note = call("post", f"/authors/{author_id}/notes", json={"text": "Disputes every invoice"}).get_json()
    return author_id, note["id"]


@pytest.fixture
def kofi(app, channel, as_token, token_for):
    """Kofi, an agent who works tech but not billing."""
    call = as_token(token_for("agent", email="kofi@example.com", name="Kofi"))
    join_queue(app, "kofi@example.com", "tech")
    return call


def test_an_agent_outside_the_customers_queues_can_neither_see_nor_change_them(app, call, kofi, billing_customer):
    """Profile, tags, notes and a note's edit or deletion are all 404 (not 403) and change nothing."""
    author_id, note_id = billing_customer
    with app.app_context():
        audited = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    attempts = [("get", f"/authors/{author_id}", None),
                ("patch", f"/authors/{author_id}", {"tags": []}),
                ("post", f"/authors/{author_id}/notes", {"text": "mine now"}),
                ("patch", f"/authors/{author_id}/notes/{note_id}", {"text": "rewritten"}),
                ("delete", f"/authors/{author_id}/notes/{note_id}", None)]
    for method, path, body in attempts:
        response = kofi(method, path, json=body) if body is not None else kofi(method, path)
        assert response.status_code == 404, (method, path)
        assert response.get_json()["error"]["code"] == "not_found"
        assert "bill@example.com" not in response.get_data(as_text=True)
    profile = call("get", f"/authors/{author_id}").get_json()
    assert profile["tags"] == ["vip"] and [n["text"] for n in profile["notes"]] == ["Disputes every invoice"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == audited


def test_an_invisible_customer_looks_like_a_missing_one(kofi, billing_customer):
    """The answer for a hidden customer is the answer for an id that does not exist, so ids do not leak."""
    author_id, _ = billing_customer
    hidden, missing = kofi("get", f"/authors/{author_id}"), kofi("get", "/authors/999999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json()["error"]["code"] == missing.get_json()["error"]["code"]


def test_joining_the_queue_makes_the_customer_visible(app, kofi, billing_customer):
    """Any conversation of the customer in a queue the agent works opens the customer to them."""
    author_id, _ = billing_customer
    join_queue(app, "kofi@example.com", "billing")
    profile = kofi("get", f"/authors/{author_id}")
    assert profile.status_code == 200 and profile.get_json()["email"] == "bill@example.com"
    assert kofi("patch", f"/authors/{author_id}", json={"tags": ["vip", "problem"]}).status_code == 200
    assert kofi("post", f"/authors/{author_id}/notes", json={"text": "Called back"}).status_code == 201


def test_the_history_shows_only_conversations_the_agent_may_see(app, deliver, call, kofi, billing_customer):
    """A customer seen in billing and tech shows a tech agent only the tech conversation."""
    author_id, _ = billing_customer
    later = make_post(author={"id": "b1", "handle": "bill"}, text="My router", created_at="2099-01-01T10:00:00Z")
    tech_id = deliver(later).get_json()["conversation_id"]
    place(app, tech_id, "tech")
    assert [c["id"] for c in kofi("get", f"/authors/{author_id}").get_json()["conversations"]] == [tech_id]
    assert len(call("get", f"/authors/{author_id}").get_json()["conversations"]) == 2


def test_a_customer_not_yet_routed_is_seen_by_supervisors_and_admins_only(app, deliver, call, as_token, token_for,
                                                                         kofi):
    """A conversation in no queue opens its customer to no agent; supervisors and admins see every customer."""
    conversation_id = deliver(make_post(author={"id": "n1", "handle": "new"})).get_json()["conversation_id"]
    place(app, conversation_id, None)
    author_id = call("get", f"/conversations/{conversation_id}").get_json()["author"]["id"]
    supervisor = as_token(token_for("supervisor", email="sam@example.com"))
    assert kofi("get", f"/authors/{author_id}").status_code == 404
    assert supervisor("get", f"/authors/{author_id}").status_code == 200
    assert call("get", f"/authors/{author_id}").status_code == 200


def test_agents_change_only_their_own_notes_and_admins_any(app, as_token, token_for, call, billing_customer):
    """Another agent's note is 403 to edit or delete and stays as written; one's own note and an admin's edit work."""
    author_id, admins_note = billing_customer
    lena = as_token(token_for("agent", email="lena@example.com", name="Lena"))
    join_queue(app, "lena@example.com", "billing")
    supervisor = as_token(token_for("supervisor", email="sam@example.com"))
    for someone in (lena, supervisor):
        edit = someone("patch", f"/authors/{author_id}/notes/{admins_note}", json={"text": "rewritten"})
        assert edit.status_code == 403 and edit.get_json()["error"]["code"] == "not_your_note"
        assert someone("delete", f"/authors/{author_id}/notes/{admins_note}").status_code == 403
    assert [n["text"] for n in call("get", f"/authors/{author_id}").get_json()["notes"]] == ["Disputes every invoice"]
    own = lena("post", f"/authors/{author_id}/notes", json={"text": "Prefers email"}).get_json()
    assert lena("patch", f"/authors/{author_id}/notes/{own['id']}", json={"text": "Prefers phone"}).status_code == 200
    assert call("patch", f"/authors/{author_id}/notes/{own['id']}", json={"text": "Prefers post"}).status_code == 200
    assert lena("delete", f"/authors/{author_id}/notes/{own['id']}").status_code == 204


@pytest.mark.parametrize("path", ["/authors/99999999999999999999", "/authors/1/notes/99999999999999999999"])
def test_ids_beyond_64_bits_are_404(call, author_id, path):
    """An id no row can have is simply not found."""
    assert call("get" if path.count("/") == 2 else "delete", path).status_code == 404
