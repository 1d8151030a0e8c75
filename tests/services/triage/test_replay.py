"""What-if replay: draft rules over stored posts, with the moves counted and nothing changed."""

import json

import pytest
import sqlalchemy as sa

from tests.factories import make_post
from tests.web.test_api_rules import admin  # noqa: F401  (fixture)
from workspace.cli.replay import replay_command
from workspace.extensions import db
from workspace.jobs.dispatch import dispatch_once
from workspace.models import Author, Conversation
from workspace.services.triage import replay as replay_service

DRAFT = [{"name": "Refunds to billing", "conditions": {"keywords": ["refund"]}, "actions": {"queue": "billing"}}]


@pytest.fixture
def routed(app, deliver, run_jobs):
    """Four conversations routed with no rules (all to triage); one author is a VIP."""
    ids = [deliver(make_post(text=text, author={"id": f"a{n}", "handle": f"h{n}"})).get_json()["conversation_id"]
           for n, text in enumerate(["refund my order", "where is my refund", "app crashes", "refund please"])]
    with app.app_context():
        dispatch_once(100)
        db.session.scalar(sa.select(Author).where(Author.external_id == "a0")).tags = ["vip"]
        db.session.commit()
    run_jobs()
    return ids


def snapshot(app):
    with app.app_context():
        return db.session.execute(sa.select(Conversation.id, Conversation.queue_id, Conversation.updated_at)
                                  .order_by(Conversation.id)).all()


def test_replay_counts_moves_vips_and_examples_and_changes_nothing(app, admin, routed):  # noqa: F811
    """Three refund posts would move triage -> billing (one VIP); the database is untouched."""
    before = snapshot(app)
    response = admin("post", "/routing/replay", json={"since": "1d", "rules": DRAFT})
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert (report["conversations"], report["would_move"], report["vip_would_move"]) == (4, 3, 1)
    (move,) = report["moves"]
    assert (move["from"], move["to"], move["count"]) == ("triage", "billing", 3)
    assert {e["conversation_id"] for e in move["examples"]} <= set(routed)
    assert "Refunds to billing" in move["examples"][0]["reason"]
    assert snapshot(app) == before


def test_a_replay_past_its_limit_routes_the_newest_and_says_so(admin, routed, monkeypatch):  # noqa: F811
    """However long the period, a replay routes at most LIMIT conversations (the newest) and says it stopped."""
    monkeypatch.setattr(replay_service, "LIMIT", 2)
    report = admin("post", "/routing/replay", json={"since": "999999w", "rules": DRAFT}).get_json()
    assert (report["conversations"], report["limited"], report["limit"]) == (2, True, 2)
    (move,) = report["moves"]  # the newest two: "app crashes" stays, "refund please" moves
    assert move["count"] == 1 and [e["conversation_id"] for e in move["examples"]] == [routed[3]]
    monkeypatch.setattr(replay_service, "LIMIT", 4)  # exactly as many as there are: all of them, not limited
    report = admin("post", "/routing/replay", json={"since": "1d", "rules": DRAFT}).get_json()
    assert (report["conversations"], report["limited"]) == (4, False)


def test_replay_without_draft_rules_uses_the_rules_in_force(admin, routed):  # noqa: F811
    """With no draft given, replaying the current configuration moves nothing."""
    report = admin("post", "/routing/replay", json={"since": "1d"}).get_json()
    assert (report["conversations"], report["would_move"]) == (4, 0)


@pytest.mark.parametrize("body,message", [
    ({"since": "yesterday"}, "since"), ({"since": "0d"}, "since"),
    ({"rules": [{"name": "x", "conditions": {"regex": "(a)\\1"}, "actions": {}}]}, "regex"),
    ({"rules": "all of them"}, "rules"),
])
def test_bad_replay_requests_are_400(admin, routed, body, message):  # noqa: F811
    """A bad period or draft rule is refused with the reason."""
    response = admin("post", "/routing/replay", json=body)
    assert response.status_code == 400 and message in response.get_json()["error"]["message"]


def test_replay_command_reads_a_rules_file(app, routed, tmp_path):
    """`flask routing replay --since 1d --rules FILE` prints the moves."""
    rules = tmp_path / "draft.json"
    rules.write_text(json.dumps(DRAFT))
    result = app.test_cli_runner().invoke(replay_command, ["--since", "1d", "--rules", str(rules)])
    assert result.exit_code == 0, result.output
    assert "3 would move (1 of them VIP)" in result.output and "triage -> billing" in result.output.replace("  ", "")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    failed = app.test_cli_runner().invoke(replay_command, ["--rules", str(bad)])
    assert failed.exit_code != 0 and "not JSON" in failed.output


def test_replay_counts_the_priority_levels_draft_rules_would_change(admin, routed):  # noqa: F811
    """A draft rule forcing urgent on refund posts changes three conversations' level, against the rules in force
    scored at the same moment; the same rules as in force change none."""
    draft = [{"name": "Refunds are urgent", "conditions": {"keywords": ["refund"]}, "actions": {"priority": "urgent"}}]
    report = admin("post", "/routing/replay", json={"since": "1d", "rules": draft}).get_json()
    assert report["priority_would_change"] == 3
    assert {change["to"] for change in report["priority_changes"]} == {"urgent"}
    assert {e["conversation_id"] for c in report["priority_changes"] for e in c["examples"]} <= set(routed)
    assert admin("post", "/routing/replay", json={"since": "1d"}).get_json()["priority_would_change"] == 0
