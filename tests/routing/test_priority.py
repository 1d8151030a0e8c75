"""Priority: documented weights give sensible levels and list every contribution."""

import pytest

from routing.post import Post
from routing.priority import PriorityWeights, assess, urgency_terms_in
from routing.sentiment import sentiment
from routing.text import Words


def level_of(text, **fields):
    """Return the level assessed for a post with this text, scoring its real sentiment."""
    return assess(Post(text=text, **fields), sentiment=sentiment(text)).level


@pytest.mark.parametrize(
    "text",
    ["my account was hacked", "the site is down", "I was charged twice", "I can't log in", "I cant login to the app"],
)
def test_urgent_situations_are_at_least_high(text):
    """Hacked accounts, outages, double charges and log-in failures are high or urgent."""
    assert level_of(text) in ("high", "urgent")


def test_a_vip_with_negative_sentiment_is_at_least_high():
    """A VIP author who is unhappy is high or urgent."""
    assert level_of("My card was declined again, this is annoying", author_tags=frozenset({"VIP"})) in (
        "high",
        "urgent",
    )


def test_a_neutral_question_is_normal_and_praise_is_not_raised():
    """A plain question stays normal; thanks and praise are low or normal."""
    assert level_of("How do I change the address on my account?") == "normal"
    assert level_of("Thanks so much, your support team is wonderful!") in ("low", "normal")


def test_several_signals_make_a_post_urgent():
    """Two urgency terms from an angry, influential author past the SLA are urgent."""
    post = Post(
        text="HACKED and charged twice, awful!!",
        author_followers=1_000_000,
        author_verified=True,
        waiting_seconds=3600,
        sla_seconds=1800,
    )
    assert assess(post, sentiment=-0.8).level == "urgent"


def test_every_contribution_is_listed_and_sums_to_the_score():
    """Each factor appears with its points, and the points add up to the score."""
    post = Post(
        text="site is down",
        author_tags=frozenset({"vip"}),
        author_followers=100_000,
        author_verified=True,
        waiting_seconds=900,
        sla_seconds=1800,
    )
    result = assess(post, sentiment=-0.5, rule_points=[("rule 'Outages'", 10.0)])
    factors = {c["factor"]: c for c in result.contributions}
    assert set(factors) == {"rule", "urgency_words", "sentiment", "vip", "influence", "verified", "waiting"}
    assert factors["influence"]["points"] == pytest.approx(10.0, abs=0.01)  # two decades above 1,000
    assert factors["waiting"]["points"] == pytest.approx(15.0)  # half the SLA used
    assert result.score == pytest.approx(sum(c["points"] for c in result.contributions))
    assert result.to_dict()["level"] == result.level


def test_a_rule_level_is_a_floor_not_a_ceiling():
    """A rule's priority raises a lower level and never lowers a higher one."""
    assert assess(Post(text="hello"), rule_floor=("urgent", "rule 'X'")).level == "urgent"
    hot = assess(Post(text="hacked and charged twice"), sentiment=-0.5, rule_floor=("low", "rule 'X'"))
    assert hot.level == "urgent"


def test_weights_and_thresholds_are_configurable():
    """Custom weights change the score; thresholds must be ordered."""
    calm = PriorityWeights(urgency_points=0.0)
    assert assess(Post(text="site is down"), weights=calm).level == "normal"
    assert PriorityWeights(urgent_at=10, high_at=5, normal_at=0).level_for(7) == "high"
    with pytest.raises(ValueError):
        PriorityWeights(urgent_at=10, high_at=20)


def test_urgency_terms_are_whole_words_and_counted_once():
    """Urgency terms match whole words only and repeats count once."""
    assert urgency_terms_in([Words("Hacked! hacked again, HACKED")]) == ["hacked"]
    assert urgency_terms_in([Words("a down payment, written down")]) == []
    assert urgency_terms_in([Words("unhacked")]) == []


def test_a_threat_to_go_public_weighs_with_the_authors_reach():
    """A verified author with 2.4 million followers threatening the press is urgent; the same words from 50
    followers are raised less; without the threat the big author is not urgent."""
    threat = "Fix my account today or I am going to the press and telling all my followers."
    big = {"author_followers": 2_400_000, "author_verified": True}
    loud = assess(Post(text=threat, **big))
    assert loud.level == "urgent"
    publicity = {c["factor"]: c for c in loud.contributions}["publicity"]
    assert "going to the press" in publicity["detail"] and "2,400,000 followers" in publicity["detail"]
    small = assess(Post(text=threat, author_followers=50))
    assert small.score < loud.score and small.level in ("normal", "high")
    assert assess(Post(text="Please fix my account today.", **big)).level != "urgent"
