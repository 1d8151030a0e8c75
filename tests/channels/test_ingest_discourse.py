"""Discourse webhooks as a forum sends them: post_created and topic_created into one conversation per topic."""

import pytest

from tests.factories import SECRET
from tests.payloads import (
    TWENTY_SCRIPTS,
    discourse_headers,
    discourse_post,
    discourse_topic,
    encode,
    post_webhook,
    refused_without_writing,
)
from workspace.channels import discourse
from workspace.channels.post import Ignored
from workspace.extensions import db
from workspace.models import Channel, Conversation, Message


@pytest.fixture
def forum(app):
    """A Discourse channel 'community' whose webhook secret is SECRET; replies post as 'switchboard'."""
    with app.app_context():
        db.session.add(Channel(slug="community", name="Community", kind="discourse", secret=SECRET,
                               settings={"api_username": "switchboard"}))
        db.session.commit()
    return "community"


@pytest.fixture
def send(client, forum):
    """POST a payload as Discourse would: send(payload, event=..., secret=..., headers=...)."""

    def send(payload, *, event="post_created", secret=SECRET, headers=None, body=None):
        body = body if body is not None else encode(payload)
        return post_webhook(client, forum, body, discourse_headers(body, secret, event), headers)

    return send


def _only_conversation(app) -> tuple[Conversation, list[Message]]:
    with app.app_context():
        conversations = db.session.query(Conversation).all()
        assert len(conversations) == 1
        conversation = conversations[0]
        return conversation, list(conversation.messages), conversation.author


def test_post_created_becomes_a_conversation_with_the_topic_title_and_author(app, send):
    """The first post of a topic is stored with raw text, the topic as thread, and the author's profile."""
    response = send(discourse_post())
    assert response.status_code == 202, response.get_json()
    conversation, messages, author = _only_conversation(app)
    assert conversation.subject == "Charged twice" and conversation.thread_key == "321"
    assert conversation.private is False
    assert [m.text for m in messages] == ["I was **charged twice** for March."]
    assert messages[0].external_id == "1234"
    assert messages[0].url == "https://forum.example.com/t/charged-twice/321/1"
    assert (author.external_id, author.handle, author.name, author.trust_level) == ("77", "maya", "Maya Lin", 1)


@pytest.mark.parametrize("order", [("topic", "post"), ("post", "topic")])
def test_topic_created_and_first_post_end_as_one_conversation_whichever_comes_first(app, send, order, counts):
    """topic_created (no text) and post_created #1 make one conversation titled with the topic, in either order."""
    for kind in order:
        if kind == "topic":
            response = send(discourse_topic(), event="topic_created")
            assert response.status_code == 200 and response.get_json()["status"] == "ignored"
        else:
            assert send(discourse_post()).status_code == 202
    conversation, messages, _ = _only_conversation(app)
    assert conversation.subject == "Charged twice" and len(messages) == 1
    assert counts()["conversations"] == 1


def test_replies_in_the_topic_join_its_conversation(app, send):
    """Later posts in the same topic, by anyone, thread into the topic's conversation."""
    send(discourse_post())
    reply = send(discourse_post(id=1240, post_number=2, reply_to_post_number=1, user_id=78, username="lee",
                                name="Lee", raw="Same here!"))
    assert reply.status_code == 202
    _, messages, _ = _only_conversation(app)
    assert [m.external_id for m in messages] == ["1234", "1240"]


def test_cooked_html_is_stripped_to_text_when_raw_is_absent(app, send):
    """Without raw, cooked HTML becomes text: scripts and styles are dropped, entities decoded."""
    payload = discourse_post(cooked='<p>Refund &amp; <em>now</em></p><script>alert("x")</script>'
                                    '<style>p{}</style><p><img src="/e.png" alt=":angry:"></p>')
    del payload["post"]["raw"]
    assert send(payload).status_code == 202
    _, messages, _ = _only_conversation(app)
    assert messages[0].text == "Refund & now\n\n:angry:"


def test_staff_posts_are_the_brands_own_and_not_stored(send, counts):
    """A post by staff (admin or moderator) or by Switchboard's own API user is acknowledged, not queued."""
    before = counts()
    for flags in ({"staff": True, "moderator": True}, {"admin": True, "staff": True}, {"username": "switchboard"}):
        response = send(discourse_post(**flags))
        assert response.status_code == 200 and response.get_json()["status"] == "ignored"
    assert counts() == before


def test_personal_messages_keep_their_privacy_flag(app, send, api):
    """A post in a private_message topic makes a private conversation, and the API says so."""
    assert send(discourse_post(topic_archetype="private_message")).status_code == 202
    conversation, _, _ = _only_conversation(app)
    assert conversation.private is True
    assert api(f"/conversations/{conversation.id}").get_json()["private"] is True


@pytest.mark.parametrize("event,event_type", [("ping", "ping"), ("topic_edited", "topic"), ("like", "like"),
                                              ("user_created", "user")])
def test_events_without_a_new_post_answer_200_and_change_nothing(send, counts, event, event_type):
    """Pings, topic edits, likes and user events are acknowledged with the reason, and store nothing."""
    before = counts()
    payload = {"ping": "OK"} if event == "ping" else discourse_post()
    response = send(payload, event=event, headers={"X-Discourse-Event-Type": event_type})
    assert response.status_code == 200 and response.get_json()["status"] == "ignored"
    assert counts() == before


def test_whispers_and_small_actions_are_not_posts(send, counts):
    """post_type 4 (whisper) and 3 (small action) are not customer posts."""
    before = counts()
    assert send(discourse_post(post_type=4)).get_json()["status"] == "ignored"
    assert send(discourse_post(post_type=3, id=99)).get_json()["status"] == "ignored"
    assert counts() == before


def test_text_in_twenty_scripts_and_emoji_is_kept_exactly(app, send):
    """Post text in 20 scripts plus emoji is stored byte for byte."""
    assert send(discourse_post(raw=TWENTY_SCRIPTS, topic_title=TWENTY_SCRIPTS[:40])).status_code == 202
    conversation, messages, _ = _only_conversation(app)
    assert messages[0].text == TWENTY_SCRIPTS and conversation.subject == TWENTY_SCRIPTS[:40]


BAD = [
    ("wrong signature", {"headers": {"X-Discourse-Event-Signature": "sha256=" + "0" * 64}}, 401),
    ("missing signature", {"headers": {"X-Discourse-Event-Signature": None}}, 401),
    ("right body, wrong secret", {"secret": "not-the-secret"}, 401),
    ("truncated body", {"body": encode(discourse_post())[:-7]}, 400),
    ("unknown event type", {"event": "banana_split", "headers": {"X-Discourse-Event-Type": "banana"}}, 400),
    ("no event header", {"headers": {"X-Discourse-Event": None, "X-Discourse-Event-Type": None}}, 400),
    ("post without author id", {"payload": discourse_post(user_id=None)}, 400),
    ("post with no text", {"payload": discourse_post(raw="", cooked="<script>only()</script>")}, 400),
]


@pytest.mark.parametrize("case,options,status", BAD, ids=[case for case, _, _ in BAD])
def test_bad_deliveries_are_refused_with_nothing_stored(send, counts, case, options, status):
    """Each bad delivery gets its status and a message; no row is written."""
    refused_without_writing(send, counts, options, discourse_post(), status)


def test_the_adapter_reads_the_event_from_the_headers():
    """Unit: post_created yields one post; topic_created is Ignored with its reason."""
    channel = Channel(settings={})
    headers = {"X-Discourse-Event": "post_created", "X-Discourse-Event-Type": "post"}
    [post] = discourse.parse(discourse_post(), max_batch=500, headers=headers, channel=channel)
    assert (post.external_id, post.thread_id, post.subject, post.private) == ("1234", "321", "Charged twice", False)
    assert post.url is None  # no X-Discourse-Instance header, no link
    with pytest.raises(Ignored, match="first post"):
        discourse.parse(discourse_topic(), max_batch=500, channel=channel,
                        headers={"X-Discourse-Event": "topic_created", "X-Discourse-Event-Type": "topic"})
