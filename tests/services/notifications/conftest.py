"""The team the notification tests work with, and calling the API as one of them."""

import pytest

from tests.supervision import make_agent, make_conversation
from workspace.extensions import db
from workspace.models import Rule


@pytest.fixture
def team(app, channel):
    """Ann and Bo work billing, Cy works tech, Sue supervises, Ada admins; each with a token."""
    with app.app_context():
        people = {"ann": make_agent("agent", "Ann", ("billing",)), "bo": make_agent("agent", "Bo", ("billing",)),
                  "cy": make_agent("agent", "Cy", ("tech",)), "sue": make_agent("supervisor", "Sue"),
                  "ada": make_agent("admin", "Ada")}
        db.session.add(Rule(position=1, name="urgent billing", actions={"queue": "billing", "priority": "urgent"},
                            conditions={"phrase": "charged twice"}))
        db.session.commit()
    return people


def call(client, team, who, method, path, **kwargs):
    """Call the API as one of the team."""
    return getattr(client, method)(f"/api/v1{path}", headers={"Authorization": f"Bearer {team[who][1]}"}, **kwargs)


def billing_conversation(app, **overrides) -> int:
    """A routed open conversation in billing (see tests.supervision.make_conversation); returns its id."""
    with app.app_context():
        conversation_id = make_conversation("billing", **overrides)
        db.session.remove()
    return conversation_id
