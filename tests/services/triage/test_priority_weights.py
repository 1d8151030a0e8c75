"""Priority weights admins set: stored overrides of the defaults, validated, previewed, read by routing."""

import pytest
import sqlalchemy as sa

from tests.factories import make_post
from tests.services.triage.test_replay import routed  # noqa: F401  (fixture)
from tests.web.test_api_rules import admin  # noqa: F401  (fixture)
from workspace.errors import ValidationError
from workspace.extensions import db
from workspace.jobs.dispatch import dispatch_once
from workspace.models import AuditEntry, Author, Conversation, PriorityWeightSetting, Rule
from workspace.services.triage.weights import DEFAULTS, current_weights, parse_weights


def test_the_weights_start_as_the_defaults_with_their_ranges(admin):  # noqa: F811
    """GET shows the defaults in force, with each weight's range and meaning."""
    doc = admin("get", "/routing/priority-weights").get_json()
    assert doc["values"] == doc["defaults"] and doc["values"]["vip_points"] == DEFAULTS.vip_points
    assert doc["fields"]["urgency_max_terms"] == {"min": 0, "max": 10, "integer": True,
                                                 "meaning": "urgency terms counted at most"}
    assert doc["updated_at"] is None


def test_saved_weights_are_stored_audited_and_used_by_routing(app, admin, deliver, run_jobs):  # noqa: F811
    """Only the changed weights are stored; the next routing batch scores with them: a VIP worth 70 points is
    urgent where the default 25 made it high."""
    doc = admin("put", "/routing/priority-weights", json={"vip_points": 70, "high_at": 25}).get_json()
    assert doc["values"]["vip_points"] == 70 and doc["updated_at"]
    with app.app_context():
        assert db.session.scalar(sa.select(PriorityWeightSetting.values)) == {"vip_points": 70.0}
        assert current_weights().vip_points == 70
        assert db.session.scalar(sa.select(AuditEntry.action).where(
            AuditEntry.action == "priority_weights.update")) is not None
    conversation_id = deliver(make_post(text="where is my parcel", author={"id": "v1", "handle": "v1"})) \
        .get_json()["conversation_id"]
    with app.app_context():
        dispatch_once(100)
        db.session.scalar(sa.select(Author).where(Author.external_id == "v1")).tags = ["vip"]
        db.session.commit()
    run_jobs()
    with app.app_context():
        conversation = db.session.get(Conversation, conversation_id)
        vip = [c for c in conversation.explanation["priority"]["contributions"] if c["factor"] == "vip"]
        assert vip == [{"factor": "vip", "detail": "author tag vip", "points": 70.0}]
        assert conversation.explanation["priority"]["level"] == "urgent"
    assert admin("put", "/routing/priority-weights", json={}).get_json()["values"] == \
        admin("get", "/routing/priority-weights").get_json()["defaults"]


@pytest.mark.parametrize("body,message", [
    ({"vip_points": -1}, "vip_points:"), ({"vip_points": "high"}, "vip_points:"),
    ({"urgency_max_terms": 1.5}, "urgency_max_terms:"), ({"loudness": 3}, "loudness"),
    ({"urgent_at": 10, "high_at": 20}, "urgent_at: must be at least high_at"), ([1, 2], "body"),
])
def test_bad_weights_are_400_naming_the_weight_and_change_nothing(app, admin, body, message):  # noqa: F811
    """Every refusal names the weight (the document's checks at the edge, the thresholds' order in the
    service); nothing is stored."""
    for method, path in (("put", "/routing/priority-weights"), ("post", "/routing/priority-weights/preview")):
        response = admin(method, path, json=body)
        assert response.status_code == 400, response.get_json()
        assert response.get_json()["error"]["message"].startswith(message), response.get_json()
    with app.app_context():
        assert db.session.scalar(sa.select(PriorityWeightSetting)) is None


def test_preview_counts_the_open_conversations_whose_level_would_change(app, admin, routed):  # noqa: F811
    """Raising every level's threshold past any score lowers the open conversations, with examples; nothing is
    saved, and the weights in force preview no change."""
    report = admin("post", "/routing/priority-weights/preview",
                   json={"urgent_at": 1000, "high_at": 1000, "normal_at": 1000}).get_json()
    assert report["conversations"] == 4
    assert report["would_change"] == 4 and report["lowered"] == 4 and report["raised"] == 0
    assert {change["to"] for change in report["changes"]} == {"low"}
    assert {e["conversation_id"] for c in report["changes"] for e in c["examples"]} <= set(routed)
    assert admin("post", "/routing/priority-weights/preview", json={}).get_json()["would_change"] == 0
    with app.app_context():
        assert db.session.scalar(sa.select(PriorityWeightSetting)) is None


@pytest.mark.parametrize("values,message", [
    ({"vip_points": -1}, "vip_points: must be from 0 to 1000"),
    ({"vip_points": True}, "vip_points: must be a number"),
    ({"vip_points": float("nan")}, "vip_points: must be a number"),
    ({"urgency_max_terms": 1.5}, "urgency_max_terms: must be a whole number"),
    ({"loudness": 3}, "loudness: not a priority weight"),
    ({"normal_at": 30}, "urgent_at: must be at least high_at"),
    ("loud", "body: must be a JSON object"),
])
def test_the_service_names_each_bad_weight(values, message):
    """Called directly (the CLI, a job), the service checks what the API document checks at the edge."""
    with pytest.raises(ValidationError, match=f"^{message}"):
        parse_weights(values)


def test_whole_number_weights_stay_whole():
    """A whole-number weight sent as 3.0 is stored and used as 3."""
    assert parse_weights({"urgency_max_terms": 3.0}).urgency_max_terms == 3


def test_stored_weights_no_longer_valid_fall_back_to_the_defaults(app):
    """Weights stored before a range narrowed do not stop routing: the defaults are used."""
    with app.app_context():
        db.session.add(PriorityWeightSetting(values={"vip_points": 99_999}))
        db.session.commit()
        assert current_weights() == DEFAULTS


def test_a_stored_rule_that_does_not_compile_is_a_400_naming_it(app, admin):  # noqa: F811
    """A rule written to the database by hand that does not compile makes the preview a clear 400, not a 500."""
    with app.app_context():
        db.session.add(Rule(position=0, name="Hand-made", conditions={"all": [{"field": "status"}]},
                            actions={"queue": "billing"}))
        db.session.commit()
    response = admin("post", "/routing/priority-weights/preview", json={})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_rule"
    assert "Hand-made" in response.get_json()["error"]["message"]
