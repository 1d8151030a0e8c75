"""Reads that stay one page however much there is: a long thread, a customer's history, a bulk dry run."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.factories import join_queue, make_post
from tests.web.test_api import validate
from workspace.extensions import db
from workspace.models import Conversation, Message, Queue, utcnow


@pytest.fixture
def call(as_token, token):
    """Call the API as Ada (an admin)."""
    return as_token(token)


@pytest.fixture
def thread(app, deliver):
    """A conversation of 7 messages, texts "post 0" (its first) to "post 6" (its newest): its id."""
    conversation_id = deliver(make_post(text="post 0")).get_json()["conversation_id"]
    with app.app_context():
        first = db.session.scalar(sa.select(Message).where(Message.conversation_id == conversation_id))
        db.session.add_all([Message(conversation_id=conversation_id, channel_id=first.channel_id,
                                    author_id=first.author_id, direction="inbound", external_id=f"more{n}",
                                    text=f"post {n}") for n in range(1, 7)])
        db.session.commit()
    return conversation_id


def texts(messages: list[dict]) -> list[str]:
    return [m["text"] for m in messages]


def test_a_conversation_shows_its_newest_messages_and_pages_back_to_the_first(app, call, thread):
    """The detail carries the newest THREAD_PAGE_SIZE messages in order; `earlier_messages` walks back to the first."""
    app.config["THREAD_PAGE_SIZE"] = 3
    detail = call("get", f"/conversations/{thread}").get_json()
    validate(detail, "ConversationDetail")
    assert texts(detail["messages"]) == ["post 4", "post 5", "post 6"]
    seen, cursor = detail["messages"], detail["earlier_messages"]
    while cursor is not None:
        page = call("get", f"/conversations/{thread}/messages?before={cursor}&limit=3").get_json()
        seen, cursor = page["data"] + seen, page["earlier_messages"]
    assert texts(seen) == [f"post {n}" for n in range(7)]


def test_a_short_thread_is_whole_with_no_earlier_cursor(call, thread):
    """With fewer messages than a page, every message is there and there is nothing earlier."""
    detail = call("get", f"/conversations/{thread}").get_json()
    assert texts(detail["messages"]) == [f"post {n}" for n in range(7)] and detail["earlier_messages"] is None
    page = call("get", f"/conversations/{thread}/messages").get_json()
    assert texts(page["data"]) == texts(detail["messages"]) and page["earlier_messages"] is None


@pytest.mark.parametrize("query", ["before=abc", "before=0", "before=-3", "limit=0", "limit=201"])
def test_bad_thread_paging_is_400(call, thread, query):
    """A cursor or limit that is not a whole number in range gets the one error shape."""
    response = call("get", f"/conversations/{thread}/messages?{query}")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_field"


def test_an_agent_cannot_page_a_thread_outside_their_queues(app, client, token_for, thread):
    """The messages of a conversation the agent may not see do not exist for them."""
    with app.app_context():
        db.session.get(Conversation, thread).queue_id = db.session.scalar(
            sa.select(Queue.id).where(Queue.slug == "billing"))
        db.session.commit()
    outsider = token_for("agent", email="out@example.com")
    response = client.get(f"/api/v1/conversations/{thread}/messages", headers={"Authorization": f"Bearer {outsider}"})
    assert response.status_code == 404


@pytest.fixture
def history(app, deliver):
    """A customer with 5 conversations, the newest last (ids in the order made), one in billing: (author id, ids)."""
    conversation_id = deliver(make_post()).get_json()["conversation_id"]
    with app.app_context():
        first = db.session.get(Conversation, conversation_id)
        billing = db.session.scalar(sa.select(Queue.id).where(Queue.slug == "billing"))
        start = first.last_message_at - timedelta(days=10)
        more = [Conversation(channel_id=first.channel_id, author_id=first.author_id, status="open",
                             queue_id=billing if n == 2 else None, subject=f"older {n}",
                             last_message_at=start + timedelta(days=n)) for n in range(4)]
        db.session.add_all(more)
        db.session.commit()
        return first.author_id, [c.id for c in more] + [conversation_id]


def test_a_customer_shows_their_latest_conversations_and_pages_through_the_rest(app, call, history):
    """The customer's profile carries the newest HISTORY_PAGE_SIZE; the cursor walks the rest, newest first."""
    author_id, ids = history
    app.config["HISTORY_PAGE_SIZE"] = 2
    profile = call("get", f"/authors/{author_id}").get_json()
    validate(profile, "AuthorDetail")
    seen, cursor = [c["id"] for c in profile["conversations"]], profile["more_conversations"]
    assert seen == ids[::-1][:2]
    while cursor is not None:
        page = call("get", f"/authors/{author_id}/conversations?limit=2&cursor={cursor}").get_json()
        seen, cursor = seen + [c["id"] for c in page["data"]], page["next_cursor"]
    assert seen == ids[::-1]


def test_an_agent_pages_only_the_history_in_their_queues(app, client, token_for, history):
    """An agent working billing sees the customer's billing conversation and nothing else of theirs."""
    author_id, ids = history
    agent = token_for("agent", email="bea@example.com")
    join_queue(app, "bea@example.com", "billing")
    page = client.get(f"/api/v1/authors/{author_id}/conversations", headers={"Authorization": f"Bearer {agent}"})
    assert [c["id"] for c in page.get_json()["data"]] == [ids[2]] and page.get_json()["next_cursor"] is None


@pytest.mark.parametrize("cursor", ["nonsense", "bm90IGEgY3Vyc29y", "MjAyNi0wMS0wMXwx",
                                    "MjAyNi0wMS0wMVQwMDowMDowMCswMDowMHx4"])
def test_a_forged_history_cursor_is_400(call, history, cursor):
    """A cursor the API did not give (not base64, no separator, no time zone, no id) is refused, not a 500."""
    response = call("get", f"/authors/{history[0]}/conversations?cursor={cursor}")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_cursor"


def test_a_dry_run_checks_the_first_conversations_and_counts_them_all(app, call, deliver):
    """Past BULK_DRY_RUN_LIMIT, the dry run goes through the first ones only, says how many, and totals them all."""
    ids = [deliver(make_post(author={"id": f"c{n}", "handle": f"c{n}"})).get_json()["conversation_id"]
           for n in range(5)]
    with app.app_context():
        db.session.execute(sa.update(Conversation).values(status="open", updated_at=utcnow()))
        db.session.commit()
    app.config["BULK_DRY_RUN_LIMIT"] = 2
    summary = call("post", "/bulk/dry-run", json={"kind": "tags", "add": ["x"], "conversation_ids": ids}).get_json()
    assert summary["total"] == 5 and summary["checked"] == 2 and summary["will_change"] == 2
    assert [s["conversation_id"] for s in summary["sample"]] == ids[:2]
    app.config["BULK_DRY_RUN_LIMIT"] = 200
    whole = call("post", "/bulk/dry-run", json={"kind": "tags", "add": ["x"], "conversation_ids": ids}).get_json()
    assert whole["total"] == whole["checked"] == whole["will_change"] == 5
    with app.app_context():  # nothing was written
        assert all(not c.tags for c in db.session.scalars(sa.select(Conversation)))
