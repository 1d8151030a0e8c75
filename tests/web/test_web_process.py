"""The web process stays light: it never imports scikit-learn, numpy or scipy (only the worker routes)."""

import os
import subprocess
import sys

from tests.factories import ROOT

SERVE_A_CONVERSATION = """
import os
import sys
from tests.factories import make_config
from workspace import create_app
from workspace.extensions import db
from workspace.models import Agent, ApiToken, Author, Channel, Conversation, Message, Queue

app = create_app(make_config(SQLALCHEMY_DATABASE_URI=os.environ["DB"], REDIS_URL="redis://127.0.0.1:1/0"))
with app.app_context():
    db.create_all()
    queue, channel = Queue(slug="billing", name="Billing"), Channel(slug="forum", name="Forum", kind="native",
                                                                     secret="s" * 32)
    agent = Agent(email="ana@example.com", name="Ana", role="admin", password_hash="x")
    db.session.add_all([queue, channel, agent])
    db.session.flush()
    author = Author(channel_id=channel.id, external_id="u1", handle="u1", name="U")
    db.session.add(author)
    db.session.flush()
    conversation = Conversation(channel_id=channel.id, author_id=author.id, queue_id=queue.id, status="open",
                                subject="help")
    db.session.add(conversation)
    db.session.flush()
    db.session.add(Message(conversation_id=conversation.id, channel_id=channel.id, author_id=author.id,
                           direction="inbound",
                           text="my card was charged twice"))
    token, secret = ApiToken.issue(agent, "test")
    db.session.add(token)
    db.session.commit()
    conversation_id = conversation.id
client = app.test_client()
headers = {"Authorization": f"Bearer {secret}"}
assert client.get(f"/api/v1/conversations/{conversation_id}", headers=headers).status_code == 200
assert client.get("/api/v1/queues/billing/conversations", headers=headers).status_code == 200
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("sklearn", "numpy", "scipy"))
assert not heavy, heavy[:5]
"""


def test_the_web_process_serves_a_conversation_without_scikit_learn_numpy_or_scipy(tmp_path):
    """Building the app and serving a conversation and a queue page imports none of the model's libraries."""
    env = dict(os.environ, DB=f"sqlite:///{tmp_path / 'web.db'}")
    result = subprocess.run([sys.executable, "-c", SERVE_A_CONVERSATION], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
