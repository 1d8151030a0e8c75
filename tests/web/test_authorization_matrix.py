"""The authorization matrix: every URL rule and every Socket.IO event, for every kind of caller.

The rules come from the app's own url_map and the events from the Socket.IO server's handlers, so a new
route or event without a line in the table fails the test until someone says who may call it.

The table itself, and what its letters mean: tests/web/authorization_table.py.
"""

from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from tests.factories import make_config
from tests.supervision import make_conversation, make_reply
from tests.web.authorization_table import ACTORS, BODIES, ROUTES, SOCKET_EVENTS
from workspace import create_app
from workspace.extensions import db, socketio
from workspace.models import (
    TOKEN_SCOPES,
    Agent,
    ApiToken,
    Article,
    AuthorNote,
    Automation,
    BulkAction,
    BusinessCalendar,
    Channel,
    Conversation,
    EmailAttachment,
    Incident,
    Macro,
    PersonLink,
    PushSubscription,
    QaReview,
    Queue,
    Rule,
    SavedView,
    SlaPolicy,
    Subscription,
    Suggestion,
    SuggestionVersion,
)
from workspace.services.conversations import merging


@dataclass
class World:
    """The ids and credentials the matrix fills paths and headers with."""

    ids: dict
    tokens: dict
    agents: dict


def _agent(role: str, name: str, queues: list) -> Agent:
    agent = Agent(email=f"{name}@example.com", name=name, role=role, password_hash=generate_password_hash("pw"),
                  queues=queues)
    db.session.add(agent)
    return agent


@pytest.fixture
def matrix_app(app):
    """The test app's database and Redis, without the Socket.IO message queue (the socket test client's limit)."""
    config = {key: app.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "REDIS_URL", "RQ_QUEUE", "MODEL_DIR")}
    matrix_app = create_app(make_config(SOCKETIO_MESSAGE_QUEUE=None, **config))
    yield matrix_app
    with matrix_app.app_context():  # its own engine: close its connections before the schema is dropped
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def world(matrix_app) -> World:
    """One of everything a path can name, in billing; agents in and out of billing; a token each."""
    with matrix_app.app_context():
        db.session.add(Channel(slug="forum", name="Forum", kind="native", secret="matrix-channel-secret"))
        queues = {slug: Queue(slug=slug, name=slug.title()) for slug in ("triage", "billing", "tech")}
        db.session.add_all(queues.values())
        agents = {"agent_out": _agent("agent", "agent_out", [queues["tech"]]),
                  "agent_in": _agent("agent", "agent_in", [queues["billing"]]),
                  "supervisor": _agent("supervisor", "supervisor", []),
                  "admin": _agent("admin", "admin", [])}
        db.session.commit()
        tokens = {}
        for name, agent in agents.items():
            row, tokens[name] = ApiToken.issue(agent, "matrix")
            db.session.add(row)
        spare, _ = ApiToken.issue(agents["agent_in"], "to revoke")
        db.session.add(spare)
        conversation_id = make_conversation("billing")
        conversation = db.session.get(Conversation, conversation_id)
        reply_id = make_reply(conversation_id, agents["agent_in"].id)
        note = AuthorNote(author_id=conversation.author_id, agent_id=agents["agent_in"].id, text="prefers email")
        other_conversation_id = make_conversation("billing")
        duplicate = db.session.get(Conversation, make_conversation("billing"))
        merge_id = merging.merge(duplicate, db.session.get(Conversation, other_conversation_id), None).id
        other_author_id = db.session.get(Conversation, other_conversation_id).author_id
        link = PersonLink(author_id=conversation.author_id, other_author_id=other_author_id,
                          evidence=[{"kind": "email", "detail": "same email"}])
        macro = Macro(name="Thanks", template="Thanks!", scope="team", queue_id=queues["billing"].id,
                      owner_id=agents["supervisor"].id)
        rule = Rule(position=1, name="refunds", conditions={"any": [{"field": "text", "op": "contains",
                                                                      "value": "refund"}]},
                    actions={"queue": "billing"})
        calendar = BusinessCalendar(name="Office", time_zone="UTC", hours={"mon": [["09:00", "17:00"]]})
        incident = Incident(title="Outage")
        bulk = BulkAction(agent_id=agents["agent_in"].id, kind="reply", template="hi", selection={"ids": []})
        policy = SlaPolicy(queue_id=queues["billing"].id, priority=0, first_reply_minutes=60)  # urgent
        automation = Automation(name="Remind", conditions=[{"field": "status", "op": "in", "value": ["pending"]}],
                                actions=[{"type": "add_tags", "tags": ["waiting"]}])
        subscription = Subscription(url="http://127.0.0.1:9/events", events=["ping"], secret="s")
        db.session.add_all([note, link, macro, rule, calendar, incident, bulk, policy, automation, subscription])
        db.session.flush()
        review = QaReview(message_id=reply_id, conversation_id=conversation_id, agent_id=agents["agent_in"].id,
                          reviewer_id=agents["supervisor"].id, accuracy=3, tone=3, resolution=3)
        device = PushSubscription(agent_id=agents["agent_in"].id, endpoint="https://push.example.com/matrix",
                                  p256dh="x", auth="y")

        attachment = EmailAttachment(message_id=reply_id, filename="a.png", declared_type="image/png",
                                     content_type="image/png", size=8, data=b"\x89PNG\r\n\x1a\n")
        db.session.add_all([review, attachment, device])
        version = SuggestionVersion(watermark={"audit_id": 0, "message_id": 0}, active=True)
        db.session.add(version)
        db.session.flush()
        suggestion = Suggestion(conversation_id=conversation_id, version_id=version.id, message_id=min(
            m.id for m in conversation.messages if m.direction == "inbound"), kind="macro", macro_id=macro.id,
            rank=1, confidence=0.9, evidence="learned")
        article = Article(slug="returns", title="Returns", body="Send it back.", status="published")
        view = SavedView(name="Billing unassigned", owner_id=agents["agent_in"].id, team_queue_id=queues["billing"].id,
                         filters={"status": "open", "assignee": "none"})
        db.session.add_all([suggestion, article, view])
        db.session.commit()
        ids = {"suggestion_id": suggestion.id, "article_id": article.id,
               "conversation_id": conversation_id, "author_id": conversation.author_id, "note_id": note.id,
               "macro_id": macro.id, "rule_id": rule.id, "calendar_id": calendar.id, "incident_id": incident.id,
               "review_id": review.id, "bulk_id": bulk.id, "agent_id": agents["agent_in"].id, "token_id": spare.id,
               "attachment_id": attachment.id, "suspended_id": 999_999,
               "link_id": link.id,
               "other_author_id": other_author_id, "other_conversation_id": other_conversation_id,
               "reply_id": reply_id, "merge_id": merge_id, "job_id": "retention-none",
               "device_id": device.id,
               "automation_id": automation.id, "subscription_id": subscription.id, "view_id": view.id,
               "token": "not-a-survey-link", "level": "urgent", "version": "v-none", "filename": "css/console.css"}
        agent_ids = {name: agent.get_id() for name, agent in agents.items()}
        db.session.remove()
    return World(ids=ids, tokens=tokens, agents=agent_ids)


def _body(route: str, world: World) -> dict:
    """The route's valid body (placeholders filled from the world), or an empty one."""
    def filled(value):
        if isinstance(value, list):
            return [filled(item) for item in value]
        return world.ids[value[1:-1]] if isinstance(value, str) and value.startswith("<") else value
    return {key: filled(value) for key, value in BODIES.get(route, {}).items()}


def _path(rule: str, world: World) -> str:
    """Fill a rule's placeholders; a slug is the queue, channel or webhook channel the path is about."""
    slug = "forum" if rule.startswith(("/api/v1/channels", "/webhooks")) else "billing"
    path = rule.replace("<slug>", slug)
    for name, value in world.ids.items():
        for converter in ("int:", "path:", ""):
            path = path.replace(f"<{converter}{name}>", str(value))
    assert "<" not in path, f"no value for a placeholder of {rule}"
    return path


def _outcome(response) -> str:
    status = response.status_code
    assert status < 500, f"{status}: {response.get_data(as_text=True)[:300]}"
    if status == 401 or (status == 302 and "/login" in response.headers.get("Location", "")):
        return "u"
    if status == 404 and (response.get_json(silent=True) or {}).get("error", {}).get("code") == "nothing_waiting":
        return "o"  # let through, and the queues are simply empty
    return {403: "f", 404: "h"}.get(status, "o")


def _call(app, method: str, rule: str, path: str, actor: str, world: World, headers=None):
    """Call a route as an actor: the API and /metrics with a bearer token, anything else with a session."""
    client = app.test_client()
    headers = dict(headers or {})
    api = rule.startswith("/api/v1") or rule == "/metrics"
    if actor != "anonymous" and api and "Authorization" not in headers:
        headers["Authorization"] = f"Bearer {world.tokens[actor]}"
    if actor != "anonymous" and not api:
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = world.agents[actor], True
    body = _body(f"{method} {rule}", world) if method in ("POST", "PUT", "PATCH") else None
    response = client.open(path, method=method, json=body, headers=headers)
    response.get_data()  # read, then close: a static file's handle is released
    response.close()
    return response


def _routes(app) -> dict[str, str]:
    """Every 'METHOD rule' the app answers (HEAD and OPTIONS are Flask's own), deletions last, and after them
    erasing the world's customer (which takes their notes and links with it)."""
    routes = {f"{method} {rule.rule}": rule.rule for rule in app.url_map.iter_rules()
              for method in sorted(rule.methods - {"HEAD", "OPTIONS"})}
    return dict(sorted(routes.items(), key=lambda item: (
        2 if item[0].endswith("/erase") else 1 if item[0].startswith("DELETE") else 0, item[0])))


def test_every_route_and_socket_event_is_in_the_matrix(matrix_app):
    """A new route or event fails here until the matrix says who may call it."""
    assert sorted(_routes(matrix_app)) == sorted(ROUTES), "add the new route to ROUTES (or remove a stale line)"
    events = {event for event, _handler, namespace in socketio.handlers if namespace == "/"}
    assert events == set(SOCKET_EVENTS), "add the new socket event to SOCKET_EVENTS"


def test_every_route_answers_each_caller_as_the_matrix_says(matrix_app, world):
    """Anonymous, agents in and out of the queue, supervisor and admin each get the matrix's outcome."""
    mismatches = []
    for key, rule in _routes(matrix_app).items():
        method = key.split()[0]
        expected, _scope = ROUTES[key]
        got = ""
        for number, actor in enumerate(ACTORS):
            outcome = _outcome(_call(matrix_app, method, rule, _path(rule, world), actor, world))
            # A DELETE let through for an earlier caller leaves nothing for the later ones.
            if outcome == "h" and expected[number] == "o" and method == "DELETE" and "o" in got:
                outcome = "o"
            got += outcome
        if got != expected:
            mismatches.append(f"{key}: expected {expected}, got {got}")
    assert not mismatches, "\n".join(mismatches)


def _scoped_token(app, scopes) -> str:
    with app.app_context():
        agent = db.session.scalar(sa.select(Agent).where(Agent.email == "admin@example.com"))
        row, secret = ApiToken.issue(agent, "scoped", scopes)
        db.session.add(row)
        db.session.commit()
        return secret


def test_a_token_without_the_routes_scope_gets_403_naming_it(matrix_app, world):
    """For each route taking tokens, an admin's token holding every scope but the needed one is refused,
    naming the scope; a token holding just that scope is let through."""
    mismatches = []
    for key, rule in _routes(matrix_app).items():
        method = key.split()[0]
        needed = ROUTES[key][1]
        if needed is None:
            continue
        lacking = _scoped_token(matrix_app, [s for s in TOKEN_SCOPES if s not in needed.split("|")])
        refused = _call(matrix_app, method, rule, _path(rule, world), "admin", world,
                        {"Authorization": f"Bearer {lacking}"})
        message = (refused.get_json(silent=True) or {}).get("error", {}).get("message", "")
        if refused.status_code != 403 or needed.split("|")[0] not in message:
            mismatches.append(f"{key} without {needed}: {refused.status_code} {message}")
        holding = _scoped_token(matrix_app, needed.split("|")[-1:])
        allowed = _call(matrix_app, method, rule, _path(rule, world), "admin", world,
                        {"Authorization": f"Bearer {holding}"})
        if _outcome(allowed) not in ("o", "h"):
            mismatches.append(f"{key} with only {needed}: {allowed.status_code}")
    assert not mismatches, "\n".join(mismatches)


def _socket(app, actor: str, world: World, token: str | None = None):
    """A socket as an actor: its console session, or the token given; anonymous has neither."""
    if token is not None:
        return socketio.test_client(app, auth={"token": token})
    client = app.test_client()
    if actor != "anonymous":
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = world.agents[actor], True
    return socketio.test_client(app, flask_test_client=client)


def _socket_outcome(app, event: str, actor: str, world: World, token: str | None = None) -> str:
    connection = _socket(app, actor, world, token)
    if not connection.is_connected():
        return "u"
    try:
        if event in ("connect", "disconnect"):
            return "o"
        data = {"status": "online"} if event == "heartbeat" else {"conversation_id": world.ids["conversation_id"]}
        answer = connection.emit(event, data, callback=True)
        return "f" if isinstance(answer, dict) and answer.get("ok") is False else "o"
    finally:
        connection.disconnect()


def test_every_socket_event_answers_each_caller_as_the_matrix_says(matrix_app, world):
    """Sockets refuse anonymous callers; conversation events are refused for a conversation outside the agent's
    queues; the dashboard room is for supervisors and admins."""
    got = {event: "".join(_socket_outcome(matrix_app, event, actor, world) for actor in ACTORS)
           for event in SOCKET_EVENTS}
    assert got == {event: expected for event, (expected, _scope) in SOCKET_EVENTS.items()}


def test_a_socket_token_without_the_events_scope_is_refused(matrix_app, world):
    """A token lacking `read` cannot connect; one lacking `write` connects but cannot type or take the lock."""
    for event, (_expected, needed) in SOCKET_EVENTS.items():
        if needed is None:
            continue
        lacking = _scoped_token(matrix_app, [s for s in TOKEN_SCOPES if s != needed])
        outcome = _socket_outcome(matrix_app, event, "admin", world, lacking)
        assert outcome == ("u" if needed == "read" else "f"), event
        if needed == "write":  # the same token can still read: it connects and views
            assert _socket_outcome(matrix_app, "view", "admin", world, lacking) == "o"
