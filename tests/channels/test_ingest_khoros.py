"""Khoros Community messages (API v2 objects) forwarded by the community's relay, signed as ours."""

import pytest
import sqlalchemy as sa

from tests.factories import SECRET
from tests.payloads import TWENTY_SCRIPTS, encode, khoros_message, post_webhook, refused_without_writing
from workspace.channels.signature import sign
from workspace.extensions import db
from workspace.models import Author, Channel, Message


@pytest.fixture
def community(app):
    """A Khoros channel 'lithium' whose secret is SECRET."""
    with app.app_context():
        db.session.add(Channel(slug="lithium", name="Lithium", kind="khoros", secret=SECRET, settings={}))
        db.session.commit()
    return "lithium"


@pytest.fixture
def send(client, community):
    """POST a payload signed as the relay signs it: send(payload, secret=..., headers=..., body=...)."""

    def send(payload, *, secret=SECRET, headers=None, body=None):
        body = body if body is not None else encode(payload)
        signed = {"Content-Type": "application/json", "X-Switchboard-Signature": sign(secret, body)}
        return post_webhook(client, community, body, signed, headers)

    return send


def test_a_message_becomes_a_conversation_with_its_subject_author_and_link(app, send):
    """Subject, body HTML as text, author login and id, post time and view_href are kept."""
    response = send(khoros_message())
    assert response.status_code == 202, response.get_json()
    with app.app_context():
        message = db.session.scalar(sa.select(Message))
        author = db.session.scalar(sa.select(Author))
        assert (message.external_id, message.text) == ("173", "I was charged twice for March.")
        assert message.conversation.subject == "Charged twice" and message.conversation.thread_key == "173"
        assert message.url.startswith("https://community.example.com/t5/Support/")
        assert message.created_at.isoformat() == "2026-11-30T10:18:21.017000+00:00"
        assert (author.external_id, author.handle) == ("45", "maya")


def test_a_list_of_messages_threads_replies_by_conversation_and_parent(app, send):
    """A topic and its replies, sent as one list, are one conversation."""
    topic = khoros_message("173")
    reply = khoros_message("180", subject="Re: Charged twice", parent={"type": "message", "id": "173"},
                           author={"type": "user", "id": "46", "login": "lee"}, body="<p>Me too</p>", depth=1)
    response = send([topic, reply])
    assert response.status_code == 202
    results = response.get_json()["results"]
    assert results[0]["conversation_id"] == results[1]["conversation_id"]


def test_scripts_in_the_body_are_dropped(app, send):
    """Body HTML is untrusted: script content never becomes post text."""
    send(khoros_message(body='<p>Help</p><script>document.location="https://evil.example"</script>'
                             '<iframe src="https://evil.example"></iframe>'))
    with app.app_context():
        assert db.session.scalar(sa.select(Message.text)) == "Help"


def test_text_in_twenty_scripts_and_emoji_is_kept(app, send):
    """Subject and body in 20 scripts plus emoji come through the HTML exactly."""
    assert send(khoros_message(subject=TWENTY_SCRIPTS, body=f"<p>{TWENTY_SCRIPTS}</p>")).status_code == 202
    with app.app_context():
        message = db.session.scalar(sa.select(Message))
        assert message.text == TWENTY_SCRIPTS and message.conversation.subject == TWENTY_SCRIPTS


BAD = [
    ("wrong signature", {"headers": {"X-Switchboard-Signature": "sha256=" + "0" * 64}}, 401),
    ("missing signature", {"headers": {"X-Switchboard-Signature": None}}, 401),
    ("right body, wrong secret", {"secret": "other"}, 401),
    ("truncated body", {"body": encode(khoros_message())[:-5]}, 400),
    ("not a message object", {"payload": khoros_message(type="kudo")}, 400),
    ("no author login", {"payload": khoros_message(author={"type": "user", "id": "45"})}, 400),
    ("body with no text", {"payload": khoros_message(body="<script>x()</script>")}, 400),
    ("javascript view_href", {"payload": khoros_message(view_href="javascript:alert(1)")}, 400),
    ("empty list", {"payload": []}, 400),
]


@pytest.mark.parametrize("case,options,status", BAD, ids=[case for case, _, _ in BAD])
def test_bad_deliveries_are_refused_with_nothing_stored(send, counts, case, options, status):
    """Each bad delivery gets its status and a message; no row is written."""
    refused_without_writing(send, counts, options, khoros_message(), status)
