"""Merging duplicate conversations and splitting one in two: what moves, what follows, and undo."""

import json
import threading

import pytest
import sqlalchemy as sa

from tests.factories import SECRET, make_post
from workspace.channels.signature import sign
from workspace.extensions import db
from workspace.jobs.dispatch import dispatch_once
from workspace.models import AuditEntry, Conversation, Message


@pytest.fixture
def admin(as_token, token):
    return as_token(token)


@pytest.fixture
def route(app, run_jobs):
    """Hand the outbox to RQ and route everything with a real worker."""
    def route():
        with app.app_context():
            while dispatch_once(500):
                pass
        run_jobs()
    return route


def post(deliver, thread: str, text: str, author: str = "a1") -> int:
    answer = deliver(make_post(text=text, thread_id=thread, author={"id": author, "handle": author}))
    assert answer.status_code in (200, 202), answer.get_json()
    return answer.get_json()["conversation_id"]


def texts(app, conversation_id: int) -> list[str]:
    with app.app_context():
        try:
            return list(db.session.scalars(sa.select(Message.text).where(
                Message.conversation_id == conversation_id).order_by(Message.id)))
        finally:
            db.session.remove()


def test_a_merged_duplicate_moves_its_messages_tags_and_assignee_and_says_where_it_went(app, admin, deliver,
                                                                                        route):
    """Merging moves messages, joins tags, takes the assignee and the more urgent priority; undo puts them back."""
    target = post(deliver, "t1", "@billing invoice is wrong")
    duplicate = post(deliver, "t2", "@billing invoice wrong again, charged twice", author="a2")
    route()
    admin("patch", f"/conversations/{duplicate}", json={"tags": ["dup-tag"], "assignee": "me", "priority": "urgent"})
    admin("patch", f"/conversations/{target}", json={"tags": ["kept"], "priority": "low"})
    merged = admin("post", f"/conversations/{duplicate}/merge", json={"into": target})
    assert merged.status_code == 200, merged.get_json()
    record = merged.get_json()
    assert (record["kind"], record["source_id"], record["target_id"], record["messages"]) == (
        "merge", duplicate, target, 1)
    shown = admin("get", f"/conversations/{target}").get_json()
    assert shown["tags"] == ["dup-tag", "kept"] and shown["assignee"]["email"] == "ada@example.com"
    assert shown["priority"] == "urgent" and len(shown["messages"]) == 2
    gone = admin("get", f"/conversations/{duplicate}").get_json()
    assert gone["merged_into"] == target and gone["status"] == "resolved" and gone["messages"] == []
    assert admin("post", f"/conversations/{duplicate}/merge", json={"into": target}).status_code == 409
    undone = admin("post", f"/conversation-merges/{record['id']}/undo")
    assert undone.status_code == 200 and undone.get_json()["undone_at"]
    back = admin("get", f"/conversations/{duplicate}").get_json()
    assert back["merged_into"] is None and back["status"] == "open" and len(back["messages"]) == 1
    restored = admin("get", f"/conversations/{target}").get_json()
    assert restored["tags"] == ["kept"] and restored["assignee"] is None and restored["priority"] == "low"
    assert admin("post", f"/conversation-merges/{record['id']}/undo").status_code == 409
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEntry.action).where(
            AuditEntry.target_type == "conversation_merge")).all()
        assert actions == ["conversation.merge", "conversation.merge.undo"]


def test_later_posts_of_a_merged_duplicate_follow_and_go_back_on_undo(app, admin, deliver, route):
    """A post threading into the duplicate after the merge lands in the target; undo takes it back too."""
    target = post(deliver, "t1", "@billing first")
    duplicate = post(deliver, "t2", "@billing second", author="a2")
    route()
    record = admin("post", f"/conversations/{duplicate}/merge", json={"into": target}).get_json()
    assert post(deliver, "t2", "a follow-up in the duplicate's thread", author="a2") == duplicate
    route()
    assert texts(app, target) == ["@billing first", "@billing second", "a follow-up in the duplicate's thread"]
    assert texts(app, duplicate) == []
    assert admin("get", f"/conversations/{duplicate}").get_json()["status"] == "resolved"
    admin("post", f"/conversation-merges/{record['id']}/undo")
    assert texts(app, duplicate) == ["@billing second", "a follow-up in the duplicate's thread"]


def test_split_moves_a_message_and_what_follows_into_a_new_conversation(app, admin, deliver, route):
    """Splitting at the second post makes a new conversation of it and the third; undo joins them again."""
    conversation = post(deliver, "t1", "@billing login broken")
    post(deliver, "t1", "also, unrelated: refund my order")
    post(deliver, "t1", "order 1234")
    route()
    messages = admin("get", f"/conversations/{conversation}").get_json()["messages"]
    split = admin("post", f"/conversations/{conversation}/split", json={"message_id": messages[1]["id"]})
    assert split.status_code == 201, split.get_json()
    new = split.get_json()["target_id"]
    assert texts(app, conversation) == ["@billing login broken"]
    assert texts(app, new) == ["also, unrelated: refund my order", "order 1234"]
    queue = admin("get", f"/conversations/{conversation}").get_json()["queue"]
    assert admin("get", f"/conversations/{new}").get_json()["queue"] == queue
    bad = admin("post", f"/conversations/{conversation}/split", json={"message_id": messages[0]["id"]})
    assert bad.status_code == 400
    admin("post", f"/conversation-merges/{split.get_json()['id']}/undo")
    assert len(texts(app, conversation)) == 3
    assert admin("get", f"/conversations/{new}").get_json()["merged_into"] == conversation


def test_a_selection_of_messages_splits_together_into_one_new_conversation(app, admin, deliver, route):
    """Ticking the second and fourth posts moves exactly those (the third stays) into one new conversation, audited;
    a foreign, missing or every message is a 400 that moves nothing; one undo puts both back in place."""
    conversation = post(deliver, "t1", "@billing login broken")
    for text in ("refund my order", "login: still broken", "order 1234"):
        post(deliver, "t1", text)
    other = post(deliver, "t9", "@billing another thread", author="a2")
    route()
    ids = [m["id"] for m in admin("get", f"/conversations/{conversation}").get_json()["messages"]]
    foreign = admin("get", f"/conversations/{other}").get_json()["messages"][0]["id"]
    for chosen in ([ids[1], foreign], ids, [ids[1], 10**9]):
        bad = admin("post", f"/conversations/{conversation}/split-messages", json={"message_ids": chosen})
        assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_field", bad.get_json()
    assert len(texts(app, conversation)) == 4
    split = admin("post", f"/conversations/{conversation}/split-messages", json={"message_ids": [ids[3], ids[1]]})
    assert split.status_code == 201 and split.get_json()["kind"] == "split", split.get_json()
    new = split.get_json()["target_id"]
    assert texts(app, conversation) == ["@billing login broken", "login: still broken"]
    assert texts(app, new) == ["refund my order", "order 1234"]
    shown = admin("get", f"/conversations/{new}").get_json()
    assert shown["status"] == "open" and shown["queue"] == admin("get", f"/conversations/{conversation}").get_json()[
        "queue"]
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "conversation.split"))
        assert entry.after == {"source": conversation, "target": new, "messages": 2}
    assert admin("post", f"/conversation-merges/{split.get_json()['id']}/undo").status_code == 200
    assert texts(app, conversation) == ["@billing login broken", "refund my order", "login: still broken", "order 1234"]
    assert admin("get", f"/conversations/{new}").get_json()["merged_into"] == conversation


def test_a_private_conversation_never_merges_with_a_public_one(app, admin, deliver, route):
    """A direct message and a public post of the same customer stay apart (400), and nothing moves."""
    public = post(deliver, "t1", "@billing public question")
    private = post(deliver, "t2", "@billing my card number is in here")
    route()
    with app.app_context():
        db.session.get(Conversation, private).private = True
        db.session.commit()
    answer = admin("post", f"/conversations/{private}/merge", json={"into": public})
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "private_mismatch"
    assert texts(app, private) == ["@billing my card number is in here"]


def test_a_selection_merges_into_one_conversation(app, admin, deliver, route):
    """Bulk: every selected conversation is merged (one undoable record each); the target itself is skipped."""
    ids = [post(deliver, f"t{n}", f"@billing same outage {n}", author=f"a{n}") for n in range(4)]
    route()
    answer = admin("post", "/conversations/merge", json={"ids": ids, "into": ids[0]})
    assert answer.status_code == 200
    assert [r["source_id"] for r in answer.get_json()["data"]] == ids[1:]
    assert len(texts(app, ids[0])) == 4


def test_merging_and_undoing_while_posts_arrive_loses_and_doubles_nothing(app, admin, deliver, route):
    """Posts keep arriving in the duplicate's thread during merge, undo and merge again: after routing each
    post is stored once, and all of them are in the target."""
    target = post(deliver, "t1", "@billing first")
    duplicate = post(deliver, "t2", "@billing second", author="a2")
    route()
    sent, errors = [], []

    def keep_posting():
        client = app.test_client()
        for n in range(30):
            body = json.dumps(make_post(id=f"race{n}", text=f"race {n}", thread_id="t2",
                                        author={"id": "a2", "handle": "a2"})).encode()
            answer = client.post("/webhooks/forum", data=body, headers={
                "Content-Type": "application/json", "X-Switchboard-Signature": sign(SECRET, body)})
            (sent if answer.status_code == 202 else errors).append(answer.status_code)

    poster = threading.Thread(target=keep_posting)
    poster.start()
    first = admin("post", f"/conversations/{duplicate}/merge", json={"into": target}).get_json()
    route()
    assert admin("post", f"/conversation-merges/{first['id']}/undo").status_code == 200
    assert admin("post", f"/conversations/{duplicate}/merge", json={"into": target}).status_code == 200
    poster.join()
    route()
    assert errors == [] and len(sent) == 30
    with app.app_context():
        stored = db.session.scalars(sa.select(Message.text).where(Message.text.like("race %"))).all()
        assert sorted(stored) == sorted(f"race {n}" for n in range(30))
    assert texts(app, duplicate) == []
    assert len(texts(app, target)) == 32
