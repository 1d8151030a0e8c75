"""The admin commands a new user runs."""

from datetime import timedelta

import sqlalchemy as sa

from workspace.extensions import db
from workspace.models import Agent, ApiToken, Channel, Conversation, Message, Queue, hash_token, utcnow
from workspace.services.service_levels.clocks import sync


def test_create_agent_and_token(app, runner):
    """An agent is created with a hashed password; a token is printed once and stored hashed."""
    result = runner.invoke(args=["agent", "create", "Ana@Example.com", "--name", "Ana", "--role", "supervisor",
                                 "--password", "s3cret-pass"])
    assert result.exit_code == 0, result.output
    token = runner.invoke(args=["token", "create", "ana@example.com", "--name", "laptop"]).output.strip()
    assert token.startswith("sb_")
    with app.app_context():
        agent = db.session.scalar(sa.select(Agent))
        assert (agent.email, agent.role) == ("ana@example.com", "supervisor")
        assert agent.password_hash and "s3cret-pass" not in agent.password_hash
        stored = db.session.scalar(sa.select(ApiToken))
        assert stored.token_hash == hash_token(token) and token not in stored.token_hash


def test_duplicate_agent_and_unknown_agent_token_fail_clearly(runner):
    """Errors exit non-zero with a message, not a traceback."""
    runner.invoke(args=["agent", "create", "a@b.c", "--name", "A", "--password", "x"])
    again = runner.invoke(args=["agent", "create", "a@b.c", "--name", "A", "--password", "x"])
    assert again.exit_code != 0 and "exists" in again.output
    missing = runner.invoke(args=["token", "create", "nobody@b.c"])
    assert missing.exit_code != 0 and "no agent" in missing.output


def test_create_channel_prints_its_secret(app, runner):
    """The channel's webhook path and secret are printed for the sender's configuration."""
    result = runner.invoke(args=["channel", "create", "forum", "--name", "Community"])
    assert result.exit_code == 0
    with app.app_context():
        channel = db.session.scalar(sa.select(Channel))
    assert "POST /webhooks/forum" in result.output and channel.secret in result.output
    assert "forum" in runner.invoke(args=["channel", "list"]).output


def test_create_queue_with_sla_targets(app, runner):
    """SLA targets parse per level; a malformed one is refused."""
    assert runner.invoke(args=["queue", "create", "billing", "--sla", "urgent=15,high=60"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(sa.select(Queue)).sla_minutes == {"urgent": 15, "high": 60}
    bad = runner.invoke(args=["queue", "create", "tech", "--sla", "soon=5"])
    assert bad.exit_code != 0 and "level=minutes" in bad.output
    assert "billing" in runner.invoke(args=["queue", "list"]).output


def test_seed_loads_demo_data_and_queues_its_routing(app, runner, run_jobs):
    """The demo seed creates agents, queues, channels and posts, hands them to RQ, and is re-runnable."""
    result = runner.invoke(args=["seed", "--posts", "120"])
    assert result.exit_code == 0, result.output
    assert "120 new posts" in result.output and "API token" in result.output
    again = runner.invoke(args=["seed", "--posts", "120"])
    assert "0 new posts" in again.output
    run_jobs()
    with app.app_context():
        statuses = set(db.session.scalars(sa.select(Conversation.status)))
        assert statuses <= {"open", "spam"} and "open" in statuses
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Agent)) == 4


def test_the_demo_floor_is_live_at_every_start(app, runner, run_jobs):
    """Seeded, most open conversations still have their SLA running (as the watcher finds them), a few are at
    risk or past it, and a spike of outage reports arrived together; a later start (hours on) brings the same
    posts up to the present."""
    assert runner.invoke(args=["seed", "--posts", "120"]).exit_code == 0
    run_jobs()

    def floor():
        with app.app_context():
            rows = db.session.execute(sa.select(Conversation.sla_status, Conversation.last_message_at)
                                      .where(Conversation.status == "open")).all()
            db.session.remove()
        return [status for status, _ in rows], max(when for _, when in rows)

    statuses, newest = floor()
    print("SLA states", {state: statuses.count(state) for state in set(statuses)})
    assert statuses.count("ok") > len(statuses) / 2 and 0 < statuses.count("at_risk") < len(statuses) / 4
    assert utcnow() - newest < timedelta(minutes=5)
    with app.app_context():  # the spike: many posts within five minutes, twenty minutes ago
        spike = db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
            Message.created_at.between(utcnow() - timedelta(minutes=25), utcnow() - timedelta(minutes=19))))
        assert spike >= 20
    with app.app_context():  # six hours pass
        for message in db.session.scalars(sa.select(Message)):
            message.created_at -= timedelta(hours=6)
        for conversation in db.session.scalars(sa.select(Conversation)):
            conversation.last_message_at -= timedelta(hours=6)
            conversation.waiting_since -= timedelta(hours=6)
            conversation.sla_clock, conversation.sla_paused_at = None, None
            sync(conversation, utcnow())
        db.session.commit()
    assert utcnow() - floor()[1] > timedelta(hours=5)
    assert runner.invoke(args=["seed", "--posts", "120"]).exit_code == 0
    statuses, newest = floor()
    assert statuses.count("ok") > len(statuses) / 2 and utcnow() - newest < timedelta(minutes=5)


def test_sweep_command_reports_what_it_enqueued(app, runner, deliver):
    """`flask sweep` hands stale work to RQ and says how much."""
    from tests.factories import make_post

    deliver(make_post())
    result = runner.invoke(args=["sweep"])
    assert result.exit_code == 0 and "re-enqueued 1" in result.output


def test_queue_routing_threshold_is_set_changed_and_cleared(app, runner):
    """Admins tune how sure the classifier must be per queue; out-of-range values are refused."""
    assert runner.invoke(args=["queue", "create", "billing", "--threshold", "0.8"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(sa.select(Queue)).routing_threshold == 0.8
    assert runner.invoke(args=["queue", "update", "billing", "--threshold", "0.6", "--name", "Money"]).exit_code == 0
    with app.app_context():
        queue = db.session.scalar(sa.select(Queue))
        assert (queue.routing_threshold, queue.name) == (0.6, "Money")
    assert runner.invoke(args=["queue", "update", "billing", "--threshold", "1.5"]).exit_code != 0
    assert runner.invoke(args=["queue", "update", "billing", "--default-threshold"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(sa.select(Queue)).routing_threshold is None
    assert "no queue" in runner.invoke(args=["queue", "update", "nope"]).output


def test_a_queue_threshold_sends_unsure_predictions_to_triage(app):
    """The per-queue threshold reaches the routing settings used by the worker."""
    from workspace.services.triage.decisions import queues_by_slug, routing_settings

    with app.app_context():
        db.session.add_all([Queue(slug="billing", name="b", routing_threshold=0.9), Queue(slug="tech", name="t")])
        db.session.commit()
        settings = routing_settings(queues_by_slug().values())
    assert settings.threshold_for("billing") == 0.9
    assert settings.threshold_for("tech") == app.config["ROUTING_THRESHOLD"]
