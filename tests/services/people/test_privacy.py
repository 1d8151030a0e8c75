"""A person's data: export, erasure (no trace left in search), and the retention job."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.factories import SECRET, make_post
from workspace.extensions import db
from workspace.models import AuditEntry, Author, Channel, Conversation, Message, Queue, utcnow
from workspace.models.search_index import AUTHORS_FTS, MESSAGES_FTS


@pytest.fixture
def call(client, token):
    def call(method, path, **kwargs):
        return getattr(client, method)(f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, **kwargs)
    return call


@pytest.fixture
def maya(app, deliver, call):
    """Maya on the forum and on 'social', linked as one person, with a note; returns her two author ids."""
    with app.app_context():
        db.session.add(Channel(slug="social", name="Social", kind="native", secret=SECRET))
        db.session.commit()
    ids = []
    for slug, author in (("forum", {"id": "f1", "handle": "zorbhandle", "name": "Maya Quux",
                                    "email": "maya@example.com"}),
                         ("social", {"id": "s1", "handle": "zorbsocial"})):
        answer = deliver(make_post(author=author, text=f"My zorblax order from {slug} is broken"), slug=slug)
        ids.append(call("get", f"/conversations/{answer.get_json()['conversation_id']}").get_json()["author"]["id"])
    call("post", f"/authors/{ids[0]}/links", json={"other_author_id": ids[1], "confirm": True})
    call("post", f"/authors/{ids[0]}/notes", json={"text": "Maya prefers zorblax by mail"})
    call("patch", f"/authors/{ids[1]}/fields", json={"fields": {"crm_id": "C-77"}})
    with app.app_context():  # search lists routed conversations only: put them in a queue
        billing = db.session.scalar(sa.select(Queue.id).where(Queue.slug == "billing"))
        db.session.execute(sa.update(Conversation).values(queue_id=billing))
        db.session.commit()
    return ids


def searched(call, query: str) -> list[int]:
    answer = call("get", "/search", query_string={"q": query})
    assert answer.status_code == 200, answer.get_json()
    return [row["id"] for row in answer.get_json()["data"]]


def test_the_export_holds_every_channel_note_field_and_message(call, maya):
    """GET .../export: both profiles, the person's fields, the note, both conversations with their messages."""
    export = call("get", f"/authors/{maya[1]}/export").get_json()
    assert {a["handle"] for a in export["authors"]} == {"zorbhandle", "zorbsocial"}
    assert export["person"]["fields"] == {"crm_id": "C-77"}
    assert [n["text"] for n in export["notes"]] == ["Maya prefers zorblax by mail"]
    assert sorted(m["text"] for c in export["conversations"] for m in c["messages"]) == [
        "My zorblax order from forum is broken", "My zorblax order from social is broken"]


def test_erasure_leaves_no_trace_in_search_profiles_notes_or_audit(app, call, deliver, maya):
    """After erasing, neither her words nor her handles find anything (in the index itself too), her notes
    and links are gone, audit entries about her are emptied, and the erasure itself is recorded."""
    assert len(searched(call, "zorblax")) == 2 and searched(call, "zorbhandle")
    erased = call("post", f"/authors/{maya[0]}/erase")
    assert erased.status_code == 200
    assert erased.get_json() == {"authors": 2, "conversations": 2, "messages": 2, "notes": 1, "links": 1}
    for query in ("zorblax", "zorbhandle", "zorbsocial", "Quux", "maya@example.com"):
        assert searched(call, query) == [], query
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            for table, word in ((MESSAGES_FTS, "zorblax"), (AUTHORS_FTS, "zorbhandle"), (AUTHORS_FTS, "quux")):
                assert db.session.execute(sa.text(f"SELECT rowid FROM {table} WHERE {table} MATCH :w"),
                                          {"w": word}).all() == []
        assert all(not m.text and not m.subject and m.raw is None for m in db.session.scalars(sa.select(Message)))
        authors = db.session.scalars(sa.select(Author)).all()
        assert all(a.email is None and a.name == "" and a.handle.startswith("erased-") for a in authors)
        entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
        assert "zorblax" not in str([(e.before, e.after) for e in entries])
        assert "C-77" not in str([(e.before, e.after) for e in entries])
        assert entries[-1].action == "person.erase" and entries[-1].after["messages"] == 2
    again = deliver(make_post(author={"id": "f1", "handle": "zorbhandle"}, text="back again"))
    new_author = call("get", f"/conversations/{again.get_json()['conversation_id']}").get_json()["author"]
    assert new_author["id"] not in maya  # a stranger: nothing joins the erased person


@pytest.mark.parametrize("mode", ["redact", "delete"])
def test_the_retention_job_clears_old_closed_conversations_with_progress(app, call, deliver, run_jobs, mode):
    """POST /retention starts a job; a real worker redacts (or deletes the messages of) conversations closed
    more than N days ago, reporting progress; open and recent ones are untouched."""
    ids = [deliver(make_post(text=f"old closed question {n}", thread_id=f"t{n}")).get_json()["conversation_id"]
           for n in range(3)]
    with app.app_context():
        long_ago = utcnow() - timedelta(days=40)
        db.session.execute(sa.update(Conversation).where(Conversation.id.in_(ids[:2])).values(
            status="resolved", updated_at=long_ago))
        db.session.commit()
    started = call("post", "/retention", json={"days": 30, "mode": mode})
    assert started.status_code == 202, started.get_json()
    run_jobs()
    job = call("get", f"/retention/{started.get_json()['id']}").get_json()
    assert job["status"] == "finished" and job["progress"] == {"done": 2, "total": 2}
    assert job["result"] == {"conversations": 2, "messages": 2}
    with app.app_context():
        left = db.session.execute(sa.select(Message.conversation_id, Message.text)).all()
        if mode == "delete":
            assert left == [(ids[2], "old closed question 2")]
        else:
            assert sorted(left) == [(ids[0], ""), (ids[1], ""), (ids[2], "old closed question 2")]
    assert call("post", "/retention", json={"days": 0}).status_code == 400
