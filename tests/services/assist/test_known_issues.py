"""Known issues and summaries beside a conversation: open incidents it belongs to or whose phrase its post matches,
with the macro that answers each (resolved ones and unrelated posts show none); the thread's summary, also first
in an escalated ticket."""

import pytest

from workspace.extensions import db
from workspace.models import Agent, ApiToken, Author, Channel, Conversation, Macro, Message
from workspace.services.escalation.tickets import ticket_for


@pytest.fixture
def world(app, channel):
    """Sam (supervisor), the outage macro, and two conversations: one about the login outage, one not."""
    with app.app_context():
        sam = Agent(email="sam@example.com", name="Sam", role="supervisor")
        row, token = ApiToken.issue(sam, "tests")
        macro = Macro(name="Login outage", template="We know about the login outage.", scope="global",
                      actions=[{"type": "reply"}])
        channel_row = db.session.query(Channel).one()
        ids = []
        for number, text in enumerate(["cannot log in, is there a login outage?", "where is my parcel"]):
            author = Author(channel=channel_row, external_id=f"u{number}", handle=f"h{number}", name="")
            conversation = Conversation(channel=channel_row, author=author, queue_id=2, status="open", subject="")
            db.session.add_all([author, conversation,
                                Message(conversation=conversation, channel_id=channel_row.id, author=author,
                                        text=text)])
            ids.append(conversation)
        db.session.add_all([sam, row, macro])
        db.session.commit()
        return {"headers": {"Authorization": f"Bearer {token}"}, "macro": macro.id, "login": ids[0].id,
                "parcel": ids[1].id}


def issues(client, world, conversation_id):
    response = client.get(f"/api/v1/conversations/{conversation_id}/known-issues", headers=world["headers"])
    assert response.status_code == 200
    return response.get_json()["data"]


def test_an_incident_shows_on_matching_and_member_conversations_with_its_answer(client, world):
    """The phrase match shows it (not a member); added by hand it is a member; resolved, it shows nowhere."""
    created = client.post("/api/v1/incidents", headers=world["headers"], json={
        "title": "Login outage", "match": {"kind": "phrase", "value": "login outage"},
        "answer_macro": world["macro"]})
    assert created.status_code == 201
    incident = created.get_json()
    assert incident["answer_macro"] == {"id": world["macro"], "name": "Login outage"}
    assert issues(client, world, world["login"]) == [{"id": incident["id"], "title": "Login outage", "member": False,
                                                      "answer_macro": {"id": world["macro"], "name": "Login outage"}}]
    assert issues(client, world, world["parcel"]) == []
    client.patch(f"/api/v1/incidents/{incident['id']}", headers=world["headers"],
                 json={"add_conversations": [world["parcel"]]})
    assert [i["member"] for i in issues(client, world, world["parcel"])] == [True]
    assert client.patch(f"/api/v1/incidents/{incident['id']}", headers=world["headers"],
                        json={"answer_macro": 99999}).status_code == 404
    client.post(f"/api/v1/incidents/{incident['id']}/resolve", headers=world["headers"], json={})
    assert issues(client, world, world["login"]) == []


def test_the_summary_states_the_problem_and_escalation_puts_it_first(app, client, world):
    """The API's summary of a thread, and the ticket's first comment opening with it."""
    with app.app_context():
        conversation = db.session.get(Conversation, world["login"])
        db.session.add(Message(conversation=conversation, channel_id=conversation.channel_id, direction="note",
                               text="I already reset their password."))
        db.session.commit()
        body = ticket_for(conversation)["comment"]["body"]
    summary = client.get(f"/api/v1/conversations/{world['login']}/summary", headers=world["headers"]).get_json()
    assert summary == {"problem": "cannot log in, is there a login outage?",
                       "tried": ["Note: I already reset their password."],
                       "last": "Note: I already reset their password.", "messages": 2}
    assert "Summary (sentences from the thread):\nProblem: cannot log in" in body
    assert body.index("Summary") < body.index("--- ")
