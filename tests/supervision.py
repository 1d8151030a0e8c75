"""Factories for the supervision tests: conversations in a known state, replies, agents who sign in."""

import itertools
import re
from datetime import timedelta

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from workspace.extensions import db
from workspace.models import NOT_DUE, Agent, ApiToken, Author, Channel, Conversation, Message, Queue, utcnow

PASSWORD = "supervision-test-password"
_numbers = itertools.count(1)


def make_agent(role: str, name: str, queues: tuple[str, ...] = ()) -> tuple[int, str]:
    """An agent who signs in with PASSWORD, working the named queues; returns (id, API token)."""
    agent = Agent(email=f"{name.lower()}@example.com", name=name, role=role,
                  password_hash=generate_password_hash(PASSWORD),
                  queues=list(db.session.scalars(sa.select(Queue).where(Queue.slug.in_(queues)))))
    row, secret = ApiToken.issue(agent, "tests")
    db.session.add_all([agent, row])
    db.session.commit()
    return agent.id, secret


def make_conversation(queue: str, *, status: str = "open", assignee_id: int | None = None, due=NOT_DUE,
                      sla_status: str | None = None, waiting_since=None, created_at=None, first_reply_at=None,
                      resolved_at=None, tags=(), sentiment: float | None = None, subject: str = "",
                      text: str = "A question") -> int:
    """A routed conversation in a known state, with one inbound post; returns its id."""
    channel = db.session.scalar(sa.select(Channel).where(Channel.slug == "forum"))
    number = next(_numbers)
    author = Author(channel_id=channel.id, external_id=f"f{number}", handle=f"cust{number}", name=f"Customer {number}")
    created = created_at or utcnow() - timedelta(hours=1)
    conversation = Conversation(
        channel_id=channel.id, author=author, status=status, assignee_id=assignee_id, subject=subject,
        queue=db.session.scalar(sa.select(Queue).where(Queue.slug == queue)), tags=list(tags), sla_due_at=due,
        sla_status=sla_status, waiting_since=waiting_since, created_at=created, updated_at=created,
        last_message_at=created, first_reply_at=first_reply_at, resolved_at=resolved_at,
        explanation={"sentiment": sentiment} if sentiment is not None else {})
    db.session.add(conversation)
    db.session.flush()
    db.session.add(Message(conversation_id=conversation.id, channel_id=channel.id, author_id=author.id,
                           direction="inbound", external_id=f"m{number}", text=text, created_at=created,
                           received_at=created))
    db.session.commit()
    return conversation.id


def make_reply(conversation_id: int, agent_id: int, text: str = "Thanks, it is fixed now.") -> int:
    """An agent's reply on a conversation; returns the message id."""
    conversation = db.session.get(Conversation, conversation_id)
    message = Message(conversation_id=conversation_id, channel_id=conversation.channel_id, agent_id=agent_id,
                      direction="outbound", text=text, delivery_status="sent")
    db.session.add(message)
    db.session.commit()
    return message.id


def sign_in(client, email: str) -> None:
    """Start a console session for an agent made by make_agent."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def bearer(token: str) -> dict:
    """The Authorization header for an API token."""
    return {"Authorization": f"Bearer {token}"}
