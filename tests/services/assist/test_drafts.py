"""Generated drafts against a local server speaking the chat-completions API: grounded and cited, other customers'
personal data kept out of the prompt, abstaining when unsupported, a clear 503 when it is down, off by default."""

import json
import threading

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from devstack.localredis import free_port
from workspace.extensions import db
from workspace.models import (
    Agent,
    ApiToken,
    AuditEntry,
    Author,
    Channel,
    Conversation,
    Message,
    Suggestion,
    SuggestionVersion,
)

OTHER = "Thanks Maya Lin (maya@example.com, +44 20 7946 0958, @mayalin): the duplicate charge is refunded."


class ChatStub:
    """A chat-completions endpoint that records each request and answers with `answer`."""

    def __init__(self):
        self.requests, self.answer = [], "We refunded the duplicate charge [1]."
        self.port = free_port()
        self.server = make_server("127.0.0.1", self.port, self.app)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @Request.application
    def app(self, request):
        if request.path != "/v1/chat/completions" or request.method != "POST":
            return Response("not found", status=404)
        self.requests.append({"auth": request.headers.get("Authorization"), "body": request.get_json()})
        return Response(json.dumps({"id": "c1", "object": "chat.completion", "choices": [{
            "index": 0, "message": {"role": "assistant", "content": self.answer}, "finish_reason": "stop"}]}),
            content_type="application/json")


@pytest.fixture
def stub():
    server = ChatStub()
    yield server
    server.server.shutdown()


@pytest.fixture
def world(app, channel, stub):
    """Ada (agent) with a token; a conversation whose stored suggestion is a past reply to Maya Lin."""
    app.config.update(GENERATOR_URL=f"http://127.0.0.1:{stub.port}/v1", GENERATOR_KEY="sk-test")
    with app.app_context():
        ada = Agent(email="ada@example.com", name="Ada", role="admin")
        row, token = ApiToken.issue(ada, "tests")
        forum = db.session.query(Channel).one()
        maya = Author(channel=forum, external_id="maya", handle="mayalin", name="Maya Lin")
        past = Conversation(channel=forum, author=maya, queue_id=2, status="resolved", subject="")
        reply = Message(conversation=past, channel_id=forum.id, agent=ada, direction="outbound", text=OTHER)
        kofi = Author(channel=forum, external_id="kofi", handle="kofi", name="Kofi")
        now = Conversation(channel=forum, author=kofi, queue_id=2, status="open", subject="")
        post = Message(conversation=now, channel_id=forum.id, author=kofi, text="charged twice, refund please")
        db.session.add_all([ada, row, maya, past, reply, kofi, now, post])
        db.session.flush()
        version = SuggestionVersion(watermark={"audit_id": 0, "message_id": 0}, active=True)
        db.session.add(version)
        db.session.flush()
        db.session.add(Suggestion(conversation_id=now.id, version_id=version.id, message_id=post.id, kind="reply",
                                  source_message_id=reply.id, rank=1, confidence=0.9, evidence="similar_post"))
        db.session.commit()
        return {"headers": {"Authorization": f"Bearer {token}"}, "id": now.id}


def draft(client, world):
    return client.post(f"/api/v1/conversations/{world['id']}/draft", headers=world["headers"])


def test_a_cited_draft_comes_back_without_other_customers_data_sent(app, client, world, stub):
    """The prompt holds the post and the scrubbed source; the draft cites it, is marked generated and audited."""
    response = draft(client, world)
    assert response.status_code == 200
    result = response.get_json()
    assert result["draft"] == "We refunded the duplicate charge [1]." and result["generated"] is True
    assert result["sources"][0]["kind"] == "reply"
    sent = stub.requests[0]
    assert sent["auth"] == "Bearer sk-test"
    prompt = json.dumps(sent["body"]["messages"])
    assert "charged twice, refund please" in prompt and "the duplicate charge is refunded" in prompt
    for personal in ("Maya", "Lin", "maya@example.com", "7946", "@mayalin"):
        assert personal not in prompt
    with app.app_context():
        entry = db.session.query(AuditEntry).filter_by(action="draft.generated").one()
        assert entry.after["generated"] is True and entry.after["draft"] == result["draft"]
        assert db.session.query(Message).filter_by(conversation_id=world["id"], direction="outbound").count() == 0


@pytest.mark.parametrize("answer", ["ABSTAIN", "Sure, we will refund you soon."])
def test_an_unsupported_answer_is_an_abstention(client, world, stub, answer):
    """ABSTAIN, or an answer citing no source, gives no draft and says why."""
    stub.answer = answer
    result = draft(client, world).get_json()
    assert result["draft"] is None and result["abstained"] is True and result["reason"]


def test_the_generator_down_is_a_clear_503_and_off_is_404(app, client, world, stub):
    """Nothing listening: 503 generator_unavailable; no URL configured: 404 generator_off."""
    stub.server.shutdown()
    stub.server.server_close()
    response = draft(client, world)
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "generator_unavailable"
    app.config["GENERATOR_URL"] = None
    response = draft(client, world)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "generator_off"
