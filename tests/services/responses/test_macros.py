"""Macros over the API: who may use and manage which, search, preview, apply (all or nothing), import/export, snooze."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from macros.rendering import SAMPLE_VARIABLES
from workspace.extensions import db
from workspace.models import (
    Agent,
    ApiToken,
    AuditEntry,
    Author,
    Channel,
    Conversation,
    Macro,
    MacroUsage,
    Message,
    Queue,
    utcnow,
)
from workspace.services.responses.actions import template_variables, wake_snoozed

OUTAGE = {"name": "Outage reply", "description": "Login outage, known issue",
          "template": "Hi {{ author.first_name | default('there') }}, we know about the outage. {{ agent.name }}",
          "actions": [{"type": "reply"}, {"type": "add_tags", "tags": ["outage"]},
                      {"type": "status", "status": "resolved"}], "scope": "global"}


@pytest.fixture
def world(app):
    """Channels forum (native) and x; queues triage, billing, tech; Ada (admin), Sam (supervisor), Ana (agent,
    billing) and Bob (agent, tech) with tokens; three open billing conversations and one on X."""
    with app.app_context():
        forum, x = Channel(slug="forum", name="Forum", kind="native"), Channel(slug="x", name="X", kind="x")
        queues = {slug: Queue(slug=slug, name=slug.title()) for slug in ("triage", "billing", "tech")}
        db.session.add_all([forum, x, *queues.values()])
        tokens = {}
        for name, role, member_of in (("Ada", "admin", []), ("Sam", "supervisor", []), ("Ana", "agent", ["billing"]),
                                      ("Bob", "agent", ["tech"])):
            agent = Agent(email=f"{name.lower()}@example.com", name=name, role=role,
                          queues=[queues[slug] for slug in member_of])
            row, tokens[name] = ApiToken.issue(agent, "tests")
            db.session.add_all([agent, row])
        db.session.flush()
        conversations = []
        for number, (channel, name) in enumerate([(forum, "Maya Lin"), (forum, ""), (forum, "Kofi"), (x, "Zed")]):
            author = Author(channel=channel, external_id=f"u{number}", handle=f"h{number}", name=name,
                            tags=["vip"] if number == 2 else [])
            conversation = Conversation(channel=channel, author=author, queue=queues["billing"], status="open",
                                        subject=f"Cannot log in {number}", waiting_since=utcnow())
            db.session.add_all([author, conversation, Message(conversation=conversation, channel_id=channel.id,
                                                              author=author, text=f"help {number}")])
            conversations.append(conversation)
        db.session.commit()
        return {"tokens": tokens, "ids": [c.id for c in conversations]}


@pytest.fixture
def call(client, world):
    """call(name, method, path, json=...) as that agent."""

    def call(name, method, path, **kwargs):
        headers = {"Authorization": f"Bearer {world['tokens'][name]}"}
        return getattr(client, method)(f"/api/v1{path}", headers=headers, **kwargs)

    return call


def make(call, who="Ada", **fields):
    response = call(who, "post", "/macros", json={**OUTAGE, **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def conversation(app, conversation_id) -> dict:
    with app.app_context():
        c = db.session.get(Conversation, conversation_id)
        replies = db.session.scalars(sa.select(Message.text).where(Message.conversation_id == conversation_id,
                                                                   Message.direction == "outbound")).all()
        return {"status": c.status, "tags": c.tags, "priority": c.priority, "queue": c.queue.slug,
                "assignee_id": c.assignee_id, "replies": replies, "author_tags": c.author.tags,
                "snoozed_until": c.snoozed_until}


def test_apply_sends_the_rendered_reply_and_makes_every_change(app, call, world, redis):
    """A macro's reply goes out through the delivery job; tags and status change; it is audited and counted."""
    macro = make(call)
    target = world["ids"][0]
    result = call("Ana", "post", f"/conversations/{target}/macros/{macro['id']}").get_json()
    assert result["reply"] == "Hi Maya, we know about the outage. Ana" and result["sends_reply"]
    assert [c["action"] for c in result["changes"]] == ["reply", "add_tags", "status"]
    after = conversation(app, target)
    assert (after["status"], after["tags"], after["replies"]) == ("resolved", ["outage"], [result["reply"]])
    with app.app_context():
        message_id = db.session.scalar(sa.select(Message.id).where(Message.direction == "outbound"))
        assert db.session.scalar(sa.select(AuditEntry.action).where(AuditEntry.target_type == "conversation")) == \
            "conversation.macro"
        assert db.session.scalar(sa.select(MacroUsage.count)) == 1
    assert redis.exists(f"rq:job:deliver-{message_id}")
    nameless = call("Ana", "post", f"/conversations/{world['ids'][1]}/macros/{macro['id']}").get_json()
    assert nameless["reply"].startswith("Hi there,")


def test_one_failing_action_rolls_back_the_conversations_other_actions(app, call, world, counts):
    """Tag, then move to a queue that does not exist: the error names the action and nothing changed."""
    macro = make(call, name="Broken", actions=[{"type": "reply"}, {"type": "add_tags", "tags": ["outage"]},
                                               {"type": "move", "queue": "nowhere"}])
    target = world["ids"][0]
    before, rows = conversation(app, target), counts()
    response = call("Ana", "post", f"/conversations/{target}/macros/{macro['id']}")
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "move to nowhere (action 3): queue: no queue named 'nowhere'"
    assert conversation(app, target) == before and counts() == rows


def test_an_x_reply_over_280_characters_is_refused_at_preview_and_apply(app, call, world):
    """The channel's limit is said before sending: the preview and the apply both refuse it."""
    macro = make(call, name="Long", template="{{ 'x' * 281 }}")
    on_x, on_forum = world["ids"][3], world["ids"][0]
    preview = call("Ana", "post", f"/macros/{macro['id']}/preview", json={"conversation_id": on_x})
    assert preview.status_code == 400 and preview.get_json()["error"]["code"] == "reply_too_long"
    assert "must fit 280" in preview.get_json()["error"]["message"]
    assert call("Ana", "post", f"/conversations/{on_x}/macros/{macro['id']}").status_code == 400
    assert conversation(app, on_x)["replies"] == []
    fine = call("Ana", "post", f"/macros/{macro['id']}/preview", json={"conversation_id": on_forum}).get_json()
    assert (fine["reply_length"], fine["reply_limit"]) == (281, 20_000)


def test_preview_shows_the_reply_and_every_change_and_writes_nothing(app, call, world, counts):
    """Preview runs the actions and rolls them back: same reply, same changes, nothing stored."""
    macro = make(call, actions=[*OUTAGE["actions"], {"type": "note", "text": "macro by {{ agent.name }}"},
                                {"type": "priority", "priority": "urgent"}, {"type": "move", "queue": "tech"},
                                {"type": "tag_customer", "tags": ["affected"]}])
    target = world["ids"][0]
    before, rows = conversation(app, target), counts()
    preview = call("Ana", "post", f"/macros/{macro['id']}/preview", json={"conversation_id": target}).get_json()
    assert preview["reply"] == "Hi Maya, we know about the outage. Ana"
    assert [(c["action"], c["after"]) for c in preview["changes"]] == [
        ("reply", {"reply": preview["reply"]}), ("add_tags", {"tags": ["outage"]}), ("status", {"status": "resolved"}),
        ("note", {"note": "macro by Ana"}), ("priority", {"priority": "urgent"}), ("move", {"queue": "tech"}),
        ("tag_customer", {"customer_tags": ["affected"]})]
    assert conversation(app, target) == before and counts() == rows
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action != "macro.create")) == 0


def test_scopes_decide_who_uses_and_who_manages(call, world):
    """Personal: its owner; team: its queue's agents use it, supervisors manage it; global: admins manage it."""
    mine = make(call, "Ana", name="Ana's own", scope="personal")
    team = make(call, "Sam", name="Billing team", scope="team", queue="billing")
    assert call("Ana", "post", "/macros", json={**OUTAGE, "scope": "team", "queue": "billing"}).status_code == 403
    assert call("Sam", "post", "/macros", json=OUTAGE).status_code == 403
    glob = make(call)
    names = {who: [m["name"] for m in call(who, "get", "/macros").get_json()["data"]] for who in ("Ana", "Bob", "Sam")}
    assert sorted(names["Ana"]) == ["Ana's own", "Billing team", "Outage reply"]
    assert names["Bob"] == ["Outage reply"]
    assert sorted(names["Sam"]) == ["Billing team", "Outage reply"]
    assert call("Bob", "get", f"/macros/{mine['id']}").status_code == 404
    assert call("Bob", "post", f"/conversations/{world['ids'][0]}/macros/{team['id']}").status_code == 404
    assert call("Ana", "patch", f"/macros/{team['id']}", json={"name": "x"}).status_code == 403
    assert call("Ana", "delete", f"/macros/{glob['id']}").status_code == 403
    assert call("Sam", "patch", f"/macros/{team['id']}", json={"name": "Billing (team)"}).get_json()["name"] == \
        "Billing (team)"
    assert call("Ana", "patch", f"/macros/{mine['id']}", json={"scope": "global"}).status_code == 403
    assert call("Ana", "delete", f"/macros/{mine['id']}").status_code == 204
    assert call("Ada", "delete", f"/macros/{team['id']}").status_code == 204


@pytest.mark.parametrize("fields,status,says", [
    ({"name": ""}, 400, "name"), ({"scope": "everyone"}, 400, "scope"),
    ({"scope": "team", "queue": "nope"}, 404, "queue"),
    ({"template": "{{ ''.__class__ }"}, 400, "template line 1"),
    ({"actions": [{"type": "launch"}]}, 400, "actions[0].type"),
    ({"template": "", "actions": [{"type": "reply"}]}, 400, "needs the macro's template"),
    ({"colour": "red"}, 400, "colour"),
])
def test_invalid_macros_are_refused_with_the_reason(call, world, fields, status, says):
    """A macro that cannot work is never saved (a team queue that names none is a 404); the message says why."""
    response = call("Ada", "post", "/macros", json={**OUTAGE, **fields})
    assert response.status_code == status and says in response.get_json()["error"]["message"]


def test_search_ranks_by_match_then_by_use(call, world):
    """A few letters find macros by name, description or body; among equal matches the more used come first."""
    make(call)
    for name in ("Refund issued", "Refund denied", "Password reset"):
        make(call, name=name, template=f"{name}: {{{{ author.handle }}}}", actions=[{"type": "reply"}],
             description="")
    found = lambda q: [m["name"] for m in call("Ana", "get", f"/macros?q={q}").get_json()["data"]]  # noqa: E731
    assert found("ref") == ["Refund denied", "Refund issued"]
    assert found("pass") == ["Password reset"]
    assert found("known") == ["Outage reply"]  # matched in the description
    issued = next(m for m in call("Ana", "get", "/macros").get_json()["data"] if m["name"] == "Refund issued")
    for target in world["ids"][:2]:
        call("Ana", "post", f"/conversations/{target}/macros/{issued['id']}")
    assert found("ref") == ["Refund issued", "Refund denied"]
    assert call("Ana", "get", "/macros?q=ref").get_json()["data"][0]["usage"] == {"mine": 2, "total": 2}


def test_import_and_export_round_trip_all_or_nothing(app, call, world):
    """Admins export team and global macros and import them back; one bad macro imports none."""
    make(call)
    make(call, "Sam", name="Billing team", scope="team", queue="billing")
    make(call, "Ana", name="Private", scope="personal")
    exported = call("Ada", "get", "/macros/export").get_json()["macros"]
    assert sorted(m["name"] for m in exported) == ["Billing team", "Outage reply"]
    assert call("Sam", "get", "/macros/export").status_code == 403
    exported[0]["description"] = "changed"
    new = {**OUTAGE, "name": "Brand new"}
    assert call("Ada", "post", "/macros/import", json={"macros": [*exported, new]}).get_json() == \
        {"created": 1, "updated": 2}
    bad = call("Ada", "post", "/macros/import", json={"macros": [{**OUTAGE, "name": "Also new"},
                                                                 {**OUTAGE, "actions": "nope"}]})
    assert bad.status_code == 400 and bad.get_json()["error"]["message"].startswith("macros[1].actions")
    with app.app_context():
        assert sorted(db.session.scalars(sa.select(Macro.name))) == ["Billing team", "Brand new", "Outage reply",
                                                                     "Private"]


def test_snooze_makes_it_pending_until_the_scheduler_reopens_it(app, call, world):
    """Snoozing sets pending with a wake-up time; the periodic job reopens it when the time comes, not before."""
    macro = make(call, name="Snooze", template="", actions=[{"type": "snooze", "minutes": 30},
                                                            {"type": "assign", "assignee": "me"}])
    target = world["ids"][0]
    call("Ana", "post", f"/conversations/{target}/macros/{macro['id']}")
    snoozed = conversation(app, target)
    assert snoozed["status"] == "pending" and snoozed["snoozed_until"] > utcnow() + timedelta(minutes=29)
    assert call("Ana", "get", f"/conversations/{target}").get_json()["snoozed_until"] is not None
    with app.app_context():
        assert wake_snoozed() == 0
        assert wake_snoozed(now=utcnow() + timedelta(minutes=31)) == 1
    woken = conversation(app, target)
    assert (woken["status"], woken["snoozed_until"]) == ("open", None)


def test_unknown_or_invisible_things_are_404_and_bad_bodies_400(call, world):
    """Missing macros and conversations are 404; a preview needs a conversation id."""
    macro = make(call)
    assert call("Ana", "get", "/macros/99999").status_code == 404
    assert call("Ana", "post", f"/conversations/99999/macros/{macro['id']}").status_code == 404
    assert call("Bob", "post", f"/macros/{macro['id']}/preview", json={"conversation_id": world["ids"][0]}
                ).status_code == 404
    assert call("Ana", "post", f"/macros/{macro['id']}/preview", json={"conversation_id": "1"}).status_code == 400
    assert call("Ana", "post", "/macros", data="nope", content_type="application/json").status_code == 400


def test_escalate_action_requests_one_ticket_and_offers_the_ticket_to_templates(app, call, world, redis):
    """A macro that tags then escalates stores one pending ticket request and queues its job; applying it again
    to the same conversation asks for no second ticket, and the template then sees the ticket."""
    from workspace.models import Escalation

    macro = make(call, name="Hand off", template="Ticket: {{ ticket.url | default('on its way') }}",
                 actions=[{"type": "add_tags", "tags": ["handoff"]}, {"type": "escalate"}])
    target = world["ids"][0]
    first = call("Ana", "post", f"/conversations/{target}/macros/{macro['id']}").get_json()
    assert [c["action"] for c in first["changes"]] == ["add_tags", "escalate"]
    with app.app_context():
        escalation = db.session.scalar(sa.select(Escalation))
        assert (escalation.state, escalation.conversation.status) == ("pending", "escalated")
        escalation.ticket_id, escalation.ticket_url = 77, "https://tickets.example.com/agent/tickets/77"
        db.session.commit()
        escalation_id = escalation.id
    assert redis.exists(f"rq:job:escalate-{escalation_id}")
    preview = call("Ana", "post", f"/macros/{macro['id']}/preview", json={"conversation_id": target}).get_json()
    assert preview["reply"] == "Ticket: https://tickets.example.com/agent/tickets/77"
    again = call("Ana", "post", f"/conversations/{target}/macros/{macro['id']}").get_json()
    assert [c["action"] for c in again["changes"]] == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Escalation)) == 1


def test_escalate_must_be_the_last_action(call, world):
    """Escalating stores the request at once, so no action may follow it (and undo it)."""
    response = call("Ada", "post", "/macros", json={**OUTAGE, "name": "Bad", "actions": [
        {"type": "escalate"}, {"type": "status", "status": "resolved"}]})
    assert response.status_code == 400
    assert "escalate must be the last action" in response.get_json()["error"]["message"]


def test_templates_see_exactly_the_fields_saving_checks_against(app, world):
    """The workspace's template variables and the library's sample data name the same fields, so a template
    that passes the check at save time finds every field when applied."""
    with app.app_context():
        variables = template_variables(db.session.get(Conversation, world["ids"][0]), db.session.get(Agent, 1))
    assert {group: sorted(fields) for group, fields in variables.items()} == \
        {group: sorted(fields) for group, fields in SAMPLE_VARIABLES.items()}
