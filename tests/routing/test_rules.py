"""Rules: JSON specs compile or are refused with a reason, and match as documented."""

import threading

import pytest

from routing.conditions import MAX_PATTERN_CHARS, MAX_TERMS, PostFacts, compile_condition
from routing.errors import RuleError
from routing.post import Post
from routing.rules import compile_rule, compile_rules


def rule(conditions, actions=None, **extra):
    """Compile a rule with the given conditions and (by default) a tag action."""
    return compile_rule(
        {"id": 1, "name": "r", "conditions": conditions, "actions": actions or {"tags": ["t"]}, **extra}
    )


def matches(conditions, post=None, sentiment=0.0, **post_fields):
    """Return whether a rule with these conditions matches the post."""
    post = post or Post(**{"text": "", **post_fields})
    return rule(conditions).matches(PostFacts(post, sentiment))


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ({"conditions": {"colour": "red"}, "actions": {"tags": ["x"]}}, "unknown condition type"),
        ({"conditions": {"keywords": ["a"], "mention": "b"}, "actions": {"tags": ["x"]}}, "one condition per object"),
        ({"conditions": {"keywords": "a", "matches": "all"}, "actions": {"tags": ["x"]}}, "unknown key 'matches'"),
        ({"conditions": {"keywords": []}, "actions": {"tags": ["x"]}}, "non-empty"),
        ({"conditions": {"keywords": ["a"], "match": "most"}, "actions": {"tags": ["x"]}}, "'any' or 'all'"),
        ({"conditions": {"keywords": ["!!!"]}, "actions": {"tags": ["x"]}}, "has no words"),
        ({"conditions": {"keywords": ["a"], "field": "body"}, "actions": {"tags": ["x"]}}, "field must be one of"),
        ({"conditions": {"regex": "(unclosed"}, "actions": {"tags": ["x"]}}, "cannot be used"),
        ({"conditions": {"regex": r"(a)\1"}, "actions": {"tags": ["x"]}}, "no backreferences"),
        ({"conditions": {"regex": r"foo(?=bar)"}, "actions": {"tags": ["x"]}}, "lookaround"),
        ({"conditions": {"regex": "a", "flags": "x"}, "actions": {"tags": ["x"]}}, "flags"),
        ({"conditions": {"regex": "a" * (MAX_PATTERN_CHARS + 1)}, "actions": {"tags": ["x"]}}, "at most"),
        ({"conditions": {"keywords": ["w"] * (MAX_TERMS + 1)}, "actions": {"tags": ["x"]}}, "at most"),
        ({"conditions": {"followers_at_least": "10k"}, "actions": {"tags": ["x"]}}, "must be an integer"),
        ({"conditions": {"followers_at_least": True}, "actions": {"tags": ["x"]}}, "must be an integer"),
        ({"conditions": {"verified": "yes"}, "actions": {"tags": ["x"]}}, "true or false"),
        ({"conditions": {"sentiment_at_most": -2}, "actions": {"tags": ["x"]}}, "between -1 and 1"),
        ({"conditions": {"language": "xx"}, "actions": {"tags": ["x"]}}, "language 'xx' is not supported"),
        ({"conditions": {"any": []}, "actions": {"tags": ["x"]}}, "non-empty list"),
        ({"conditions": {"mention": "bad handle!"}, "actions": {"tags": ["x"]}}, "not a handle"),
        ({"actions": {"tags": ["x"]}}, "conditions are missing"),
        ({"conditions": {"all": []}, "actions": {"escalate": True}}, "unknown action 'escalate'"),
        ({"conditions": {"all": []}, "actions": {}}, "non-empty"),
        ({"conditions": {"all": []}, "actions": {"priority": "critical"}}, "priority must be one of"),
        ({"conditions": {"all": []}, "actions": {"score": "10"}}, "score must be a number"),
        ({"conditions": {"all": []}, "actions": {"assign": "not-an-email"}}, "e-mail"),
        ({"conditions": {"all": []}, "actions": {"stop": "yes"}}, "stop must be true or false"),
        ({"conditions": {"all": []}, "actions": {"queue": ""}}, "queue must be a queue slug"),
        ({"conditions": {"all": []}, "actions": {"tags": [""]}}, "non-empty strings"),
    ],
)
def test_invalid_rules_are_refused_with_the_reason(spec, reason):
    """Each invalid spec raises RuleError naming the rule and saying what is wrong."""
    with pytest.raises(RuleError, match="rule 'Bad'") as err:
        compile_rule({"id": 9, "name": "Bad", **spec})
    assert reason in str(err.value)


def test_a_queue_action_is_checked_against_existing_queues_when_given():
    """compile_rule(queues=...) refuses a queue that does not exist."""
    spec = {"name": "Q", "conditions": {"all": []}, "actions": {"queue": "nope"}}
    with pytest.raises(RuleError, match="queue 'nope' does not exist"):
        compile_rule(spec, queues={"billing"})
    assert compile_rule(spec).actions.queue == "nope"


def test_compile_rules_keeps_order_and_names_the_bad_rule():
    """compile_rules compiles in order and reports the first invalid rule by name."""
    good = {"id": 1, "name": "A", "conditions": {"all": []}, "actions": {"tags": ["a"]}}
    assert [r.name for r in compile_rules([good, {**good, "name": "B"}])] == ["A", "B"]
    with pytest.raises(RuleError, match="rule 'Broken'"):
        compile_rules([good, {"name": "Broken", "conditions": {"regex": "("}, "actions": {"tags": ["x"]}}])


def test_mention_matches_whole_mentions_with_or_without_at():
    """A mention condition matches @handle as a whole mention, not a longer handle or an e-mail."""
    assert matches({"mention": "@Billing"}, text="hey @billing, help")
    assert matches({"mention": "billing"}, text="@BILLING help")
    assert not matches({"mention": "billing"}, text="hey @billing_team")
    assert not matches({"mention": "billing"}, text="mail me at me@billing")
    assert not matches({"mention": "billing"}, text="billing question")


def test_keywords_are_whole_word_case_and_accent_insensitive():
    """Keywords match whole words, ignoring case and accents both ways."""
    assert matches({"keywords": ["cafe"]}, text="Lunch at the CAFÉ")
    assert matches({"keywords": ["café"]}, text="lunch at the cafe")
    assert not matches({"keywords": ["card"]}, text="my cardboard box")
    assert matches({"keywords": ["can't log in"]}, text="I can’t  log in")


def test_keywords_any_and_all():
    """match any needs one keyword, match all needs every keyword."""
    assert matches({"keywords": ["refund", "chargeback"]}, text="I want a refund")
    assert not matches({"keywords": ["refund", "chargeback"], "match": "all"}, text="I want a refund")
    assert matches({"keywords": ["refund", "chargeback"], "match": "all"}, text="Refund or chargeback!")


def test_phrase_matches_words_in_sequence():
    """A phrase matches its words in order, whatever the spacing and case."""
    assert matches({"phrase": "charged twice"}, text="I was Charged\ntwice")
    assert not matches({"phrase": "charged twice"}, text="twice charged")


def test_field_selects_subject_or_text():
    """field limits a text condition to the subject or the text."""
    post = Post(text="body words", subject="urgent subject")
    assert matches({"keywords": ["urgent"], "field": "subject"}, post=post)
    assert not matches({"keywords": ["urgent"], "field": "text"}, post=post)
    assert matches({"keywords": ["urgent"]}, post=post)


def test_regex_with_flags():
    """Regexes run on the raw text; flag i makes them case-insensitive."""
    assert matches({"regex": r"order #\d{3,}"}, text="about order #12345")
    assert not matches({"regex": r"ORDER #\d+"}, text="about order #12345")
    assert matches({"regex": r"ORDER #\d+", "flags": "i"}, text="about order #12345")


def test_catastrophic_regex_returns_the_right_answer_without_hanging():
    """(a+)+$ against 50,000 a's and a '!' answers False (RE2 is linear); a watchdog guards the test."""
    compiled = rule({"regex": r"(a+)+$"})
    facts = PostFacts(Post(text="a" * 50_000 + "!"))
    results: list[bool] = []
    worker = threading.Thread(target=lambda: results.append(compiled.matches(facts)), daemon=True)
    worker.start()
    worker.join(timeout=10)  # a safety net so a regression fails instead of hanging the suite
    assert not worker.is_alive(), "regex evaluation hung"
    assert results == [False]
    assert compiled.matches(PostFacts(Post(text="a" * 50_000)))


def test_author_channel_and_numeric_conditions():
    """Channel, author tag, followers, verified, sentiment and length conditions compare as documented."""
    post = Post(
        text="hello there", channel="forum", author_tags=frozenset({"VIP"}), author_followers=5000, author_verified=True
    )
    assert matches({"channel": ["x", "forum"]}, post=post)
    assert not matches({"channel": "x"}, post=post)
    assert matches({"author_tag": "vip"}, post=post)
    assert matches({"followers_at_least": 5000}, post=post)
    assert not matches({"followers_at_least": 5001}, post=post)
    assert matches({"verified": True}, post=post)
    assert not matches({"verified": False}, post=post)
    assert matches({"sentiment_at_most": -0.5}, post=post, sentiment=-0.6)
    assert not matches({"sentiment_at_most": -0.5}, post=post, sentiment=0.1)
    assert matches({"length_at_least": 11}, post=post)
    assert not matches({"length_at_most": 10}, post=post)


def test_recipient_conditions_match_an_address_or_a_mailbox_on_any_domain():
    """recipient: a full address matches exactly; a bare mailbox name matches it on any domain."""
    post = Post(text="refund", channel_kind="email", recipients=frozenset({"billing@example.test"}))
    assert matches({"recipient": "billing@example.test"}, post=post)
    assert matches({"recipient": ["sales", "Billing"]}, post=post)
    assert not matches({"recipient": "support"}, post=post)
    assert not matches({"recipient": "billing"}, post=Post(text="refund"))


def test_person_field_conditions_compare_the_customers_custom_fields():
    """person_field holds when the field is set, or equals one of the values (case-insensitive, JSON for numbers)."""
    post = Post(text="hi", author_fields=(("plan", "Enterprise"), ("seats", "40"), ("trial", "false")))
    assert matches({"person_field": "plan"}, post=post)
    assert not matches({"person_field": "country"}, post=post)
    assert matches({"person_field": "plan", "equals": ["pro", "enterprise"]}, post=post)
    assert not matches({"person_field": "plan", "equals": "pro"}, post=post)
    assert matches({"person_field": "seats", "equals": "40"}, post=post)
    assert matches({"not": {"person_field": "trial", "equals": "true"}}, post=post)
    for bad in ({"person_field": "Plan!"}, {"person_field": 3}, {"person_field": "plan", "equals": []},
                {"person_field": "plan", "match": "all"}):
        with pytest.raises(RuleError):
            compile_condition(bad)


def test_conditions_nest_with_all_any_not():
    """all/any/not combine and nest; an empty all matches every post."""
    cond = {"all": [{"any": [{"keywords": ["refund"]}, {"mention": "billing"}]}, {"not": {"channel": "x"}}]}
    assert matches(cond, text="@billing hi", channel="forum")
    assert not matches(cond, text="@billing hi", channel="x")
    assert not matches(cond, text="hi", channel="forum")
    assert matches({"all": []}, text="anything")


def test_disabled_rules_still_compile_and_validate():
    """A disabled rule is validated like any other and keeps enabled=False."""
    assert rule({"all": []}, enabled=False).enabled is False
    with pytest.raises(RuleError):
        rule({"regex": "("}, enabled=False)
