"""Router: rules, then @-mentions, then the model, then triage, with a JSON explanation."""

import json

import pytest

from routing import Post, RoutingSettings, compile_rules, route, route_many

QUEUES = frozenset({"billing", "security", "cards", "triage"})


class FakeModel:
    """A stand-in classifier returning fixed top labels for every text."""

    version = "test-1"

    def __init__(self, labels):
        self.labels = labels
        self.calls = 0

    def top_labels(self, texts, k=3):
        """Return the fixed labels for each text, counting calls."""
        self.calls += 1
        return [self.labels[:k] for _ in texts]


def rules(*specs):
    """Compile rule specs, numbering them."""
    return compile_rules([{"id": i, **s} for i, s in enumerate(specs, 1)])


def test_untrained_start_routes_by_mention_and_otherwise_to_triage():
    """With no rules and no model an @queue mention picks the queue; anything else goes to triage."""
    d = route(Post(text="@billing my card was charged twice"), queues=QUEUES)
    assert d.queue == "billing"
    assert d.explanation["mention"] == "billing"
    assert d.explanation["model"] is None
    other = route(Post(text="hello there"), queues=QUEUES)
    assert other.queue == "triage"
    assert other.explanation["queue_reason"] == "no rule or model: triage"


def test_a_mention_of_something_that_is_not_a_queue_is_ignored():
    """@someone who is not a queue does not route; a later queue mention does, subject first."""
    assert route(Post(text="@bob can you help"), queues=QUEUES).queue == "triage"
    assert route(Post(text="@bob ask @cards"), queues=QUEUES).queue == "cards"
    assert route(Post(text="@cards", subject="@billing"), queues=QUEUES).queue == "billing"


def test_the_first_rule_setting_a_queue_wins_and_later_ones_are_recorded_as_overridden():
    """Rules apply in order; a later queue action is listed as overridden with the reason."""
    rs = rules(
        {"name": "Money", "conditions": {"keywords": ["refund"]}, "actions": {"queue": "billing", "tags": ["money"]}},
        {"name": "Cards", "conditions": {"keywords": ["card"]}, "actions": {"queue": "cards"}},
        {"name": "Tag", "conditions": {"keywords": ["card"]}, "actions": {"tags": ["card"], "score": 5}},
    )
    d = route(Post(text="refund for my card please"), rs, queues=QUEUES)
    assert d.queue == "billing"
    assert d.tags == ("money", "card")
    record = d.explanation["rules"]
    assert [(r["name"], r["status"]) for r in record] == [("Money", "fired"), ("Cards", "overridden"), ("Tag", "fired")]
    assert "already set queue billing" in record[1]["ignored"][0]["reason"]
    assert d.explanation["queue_reason"] == "rule 'Money' set queue billing"


def test_a_rule_beats_a_mention_and_the_model():
    """An explicit rule's queue wins over an @-mention and a confident model."""
    rs = rules({"name": "Sec", "conditions": {"keywords": ["hacked"]}, "actions": {"queue": "security"}})
    model = FakeModel([("billing", 0.99)])
    d = route(Post(text="@billing I was hacked"), rs, model, queues=QUEUES)
    assert d.queue == "security"
    assert d.explanation["mention"] is None
    assert d.explanation["model"]["chosen"] is False


def test_stop_ends_evaluation_and_lists_the_rules_it_hid():
    """After a stop rule, later matching rules do nothing but appear as stopped."""
    rs = rules(
        {"name": "Spam", "conditions": {"keywords": ["casino"]}, "actions": {"spam": True, "stop": True}},
        {"name": "Billing", "conditions": {"keywords": ["casino"]}, "actions": {"queue": "billing"}},
    )
    d = route(Post(text="win at the casino"), rs, queues=QUEUES)
    assert d.spam is True
    assert d.queue == "triage"
    assert d.explanation["rules"][1]["status"] == "stopped"
    assert "stopped by rule 'Spam'" in d.explanation["rules"][1]["reason"]


def test_a_rule_queue_that_does_not_exist_is_ignored_and_the_next_rule_may_set_one():
    """A rule naming a deleted queue does not strand the post; the next rule decides."""
    rs = rules(
        {"name": "Old", "conditions": {"all": []}, "actions": {"queue": "gone"}},
        {"name": "New", "conditions": {"all": []}, "actions": {"queue": "cards"}},
    )
    d = route(Post(text="x"), rs, queues=QUEUES)
    assert d.queue == "cards"
    assert d.explanation["rules"][0]["status"] == "overridden"


def test_disabled_rules_are_skipped():
    """A disabled rule neither fires nor appears in the explanation."""
    rs = rules({"name": "Off", "enabled": False, "conditions": {"all": []}, "actions": {"queue": "cards"}})
    d = route(Post(text="x"), rs, queues=QUEUES)
    assert d.queue == "triage" and d.explanation["rules"] == []


def test_assignee_priority_floor_and_score_from_rules():
    """First assignee wins, the highest priority floor applies and score bumps add up."""
    rs = rules(
        {
            "name": "A",
            "conditions": {"all": []},
            "actions": {"assign": "ana@example.com", "priority": "high", "score": 3},
        },
        {
            "name": "B",
            "conditions": {"all": []},
            "actions": {"assign": "bo@example.com", "priority": "urgent", "score": 4},
        },
    )
    d = route(Post(text="question"), rs, queues=QUEUES)
    assert d.assignee == "ana@example.com"
    assert d.priority == "urgent"
    assert d.score == pytest.approx(7.0)


def test_the_model_routes_when_confident_and_triages_when_not():
    """Above the threshold the model's queue is used; below it the post goes to triage, saying so."""
    confident = route(Post(text="x"), model=FakeModel([("billing", 0.87), ("cards", 0.1)]), queues=QUEUES)
    assert confident.queue == "billing"
    assert confident.explanation["queue_reason"] == "model predicted billing (0.87 \u2265 0.60)"
    assert confident.explanation["model"] == {
        "version": "test-1",
        "labels": [["billing", 0.87], ["cards", 0.1]],
        "threshold": 0.6,
        "chosen": True,
    }
    unsure = route(Post(text="x"), model=FakeModel([("billing", 0.31)]), queues=QUEUES)
    assert unsure.queue == "triage"
    assert unsure.explanation["queue_reason"] == "model confidence 0.31 below threshold 0.60: sent to triage"


def test_per_queue_thresholds_and_unknown_labels():
    """A queue's own threshold applies; a label that is not a queue goes to triage."""
    settings = RoutingSettings(queue_thresholds={"billing": 0.9})
    d = route(Post(text="x"), model=FakeModel([("billing", 0.87)]), queues=QUEUES, settings=settings)
    assert d.queue == "triage" and d.explanation["model"]["threshold"] == 0.9
    d = route(Post(text="x"), model=FakeModel([("lost_card", 0.99)]), queues=QUEUES)
    assert d.queue == "triage" and "not a queue" in d.explanation["queue_reason"]


def test_a_custom_triage_queue_is_used():
    """settings.triage_queue names where unrouted posts go."""
    d = route(Post(text="x"), settings=RoutingSettings(triage_queue="inbox"))
    assert d.queue == "inbox"


def test_route_many_classifies_the_batch_in_one_call_and_matches_route():
    """route_many calls the model once for the whole batch and agrees with route()."""
    model = FakeModel([("cards", 0.7)])
    posts = [Post(text=f"post {i}") for i in range(50)] + [Post(text="@billing hi")]
    decisions = route_many(posts, (), model, queues=QUEUES)
    assert model.calls == 1
    assert len(decisions) == 51
    assert decisions[-1] == route(posts[-1], (), model, queues=QUEUES)
    assert route_many([], model=model) == []


def test_the_explanation_is_json_and_complete():
    """The explanation round-trips through JSON and holds every documented key."""
    rs = rules({"name": "Sec", "conditions": {"regex": "hack(ed)?", "flags": "i"}, "actions": {"tags": ["sec"]}})
    d = route(
        Post(text="HACKED, help!", author_tags=frozenset({"vip"})), rs, FakeModel([("security", 0.6)]), queues=QUEUES
    )
    explanation = json.loads(json.dumps(d.explanation))
    assert set(explanation) == {"rules", "mention", "model", "queue_reason", "priority", "sentiment",
                                "sentiment_scope", "language"}
    assert explanation["priority"]["level"] == d.priority
    assert {c["factor"] for c in explanation["priority"]["contributions"]} >= {"urgency_words", "vip"}
    assert -1 <= explanation["sentiment"] <= 1
