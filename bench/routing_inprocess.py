"""Benchmark routing in one process: posts/s through rules + classifier + priority + sentiment.

Builds realistic posts from Banking77's test texts (plus @-mentions, urgency
words, VIP and influential authors, subjects, long posts), a rule set of 20
rules including regexes, and a model trained on train.csv; then routes them
with route_many in batches of 100 and 1,000 and with route() one at a time.
Prints figures; asserts nothing.

    .venv/bin/python bench/routing_inprocess.py [--posts 5000] [--data DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.classifier import DEFAULT_DATA, read_csv  # noqa: E402
from routing import Post, compile_rules, route, route_many  # noqa: E402
from routing.classifier import model_text, train  # noqa: E402
from routing.sentiment import sentiments  # noqa: E402

EXTRA_QUEUES = ("billing", "security", "cards", "vip", "outages", "spam", "triage")

RULES = [
    {
        "name": "Spam links",
        "conditions": {"regex": r"(?i)(casino|crypto giveaway|free money)\W.*https?://"},
        "actions": {"spam": True, "queue": "spam", "stop": True},
    },
    {"name": "@billing", "conditions": {"mention": "billing"}, "actions": {"queue": "billing"}},
    {"name": "@security", "conditions": {"mention": ["security", "secops"]}, "actions": {"queue": "security"}},
    {
        "name": "Hacked",
        "conditions": {"keywords": ["hacked", "compromised", "phishing", "scam"]},
        "actions": {"queue": "security", "priority": "high", "tags": ["security"]},
    },
    {
        "name": "Outage",
        "conditions": {"any": [{"phrase": "is down"}, {"keywords": ["outage", "not loading"]}]},
        "actions": {"queue": "outages", "priority": "urgent", "tags": ["outage"]},
    },
    {
        "name": "Charged twice",
        "conditions": {"regex": r"(?i)charged\s+(me\s+)?(twice|two times|2x)"},
        "actions": {"queue": "billing", "score": 15, "tags": ["double-charge"]},
    },
    {
        "name": "Refunds",
        "conditions": {"keywords": ["refund", "chargeback", "reimburse"]},
        "actions": {"tags": ["refund"]},
    },
    {
        "name": "Card words",
        "conditions": {"keywords": ["card", "pin", "contactless"], "field": "text"},
        "actions": {"tags": ["card"]},
    },
    {
        "name": "Lost card",
        "conditions": {"all": [{"keywords": ["card"]}, {"keywords": ["lost", "stolen"]}]},
        "actions": {"queue": "cards", "priority": "high"},
    },
    {"name": "VIP", "conditions": {"author_tag": "vip"}, "actions": {"tags": ["vip"], "score": 10}},
    {
        "name": "Influencers",
        "conditions": {"all": [{"followers_at_least": 50_000}, {"sentiment_at_most": -0.3}]},
        "actions": {"priority": "high", "tags": ["influencer-unhappy"]},
    },
    {
        "name": "Verified on X",
        "conditions": {"all": [{"verified": True}, {"channel": "x"}]},
        "actions": {"tags": ["verified"]},
    },
    {"name": "Angry", "conditions": {"sentiment_at_most": -0.6}, "actions": {"tags": ["angry"], "score": 5}},
    {
        "name": "Order numbers",
        "conditions": {"regex": r"\b(?:order|ref)[ #:]*\d{5,}\b", "flags": "i"},
        "actions": {"tags": ["has-order"]},
    },
    {"name": "IBAN", "conditions": {"regex": r"\b[A-Z]{2}\d{2}[A-Z0-9]{10,30}\b"}, "actions": {"tags": ["iban"]}},
    {"name": "Long posts", "conditions": {"length_at_least": 1_500}, "actions": {"tags": ["long"]}},
    {"name": "Short posts", "conditions": {"length_at_most": 12}, "actions": {"score": -5}},
    {
        "name": "Forum subject urgent",
        "conditions": {"all": [{"channel": "forum"}, {"keywords": ["urgent", "asap"], "field": "subject"}]},
        "actions": {"priority": "high"},
    },
    {
        "name": "Cancel",
        "conditions": {"phrase": ["close my account", "cancel my account"]},
        "actions": {"tags": ["churn-risk"], "score": 10},
    },
    {
        "name": "Not customers",
        "conditions": {"not": {"any": [{"channel": ["forum", "x", "native"]}]}},
        "actions": {"tags": ["other-channel"]},
    },
]

URGENT = [
    "My account was hacked!",
    "The app is down again.",
    "I was charged twice for this.",
    "I can't log in since this morning.",
    "Outage? Nothing is loading.",
]


def make_posts(texts: list[str], n: int, seed: int = 0) -> list[Post]:
    """Return n varied posts built from real customer texts."""
    rng = random.Random(seed)
    posts = []
    for i in range(n):
        text = rng.choice(texts)
        roll = rng.random()
        if roll < 0.05:
            text = f"@{rng.choice(['billing', 'security', 'bob'])} {text}"
        elif roll < 0.12:
            text = f"{rng.choice(URGENT)} {text}"
        elif roll < 0.14:
            text = (text + " ") * 60  # a pasted wall of text
        elif roll < 0.16:
            text = f"{text} my order #{rng.randint(10_000, 99_999)} ref, this is terrible and awful"
        posts.append(
            Post(
                text=text,
                subject=rng.choice(["", "", "Question", "URGENT please", "Card issue"]),
                channel=rng.choice(["forum", "x", "native", "khoros"]),
                author_handle=f"user{i}",
                author_followers=int(10 ** rng.uniform(0, 6)),
                author_verified=rng.random() < 0.05,
                author_tags=frozenset({"vip"}) if rng.random() < 0.03 else frozenset(),
                waiting_seconds=rng.uniform(0, 7200),
                sla_seconds=rng.choice([None, 3600.0, 14400.0]),
            )
        )
    return posts


def rate(fn, posts: list[Post], batch: int) -> float:
    """Return posts/s for fn over posts in batches of `batch` (best of 2 runs)."""
    best = 0.0
    for _ in range(2):
        start = time.perf_counter()
        for i in range(0, len(posts), batch):
            fn(posts[i : i + batch])
        best = max(best, len(posts) / (time.perf_counter() - start))
    return best


def main() -> None:
    """Build posts, rules and model; print routing throughput."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=5_000)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("BANKING77_DIR", DEFAULT_DATA)))
    args = parser.parse_args()

    train_texts, train_labels = read_csv(args.data / "train.csv")
    test_texts, _ = read_csv(args.data / "test.csv")
    start = time.perf_counter()
    model = train(train_texts, train_labels, holdout=0)
    print(f"model trained in {time.perf_counter() - start:.1f} s ({len(model.labels)} labels)")
    rules = compile_rules([{"id": i, **spec} for i, spec in enumerate(RULES, 1)])
    queues = frozenset(model.labels) | frozenset(EXTRA_QUEUES)
    posts = make_posts(test_texts, args.posts)
    print(
        f"{len(posts)} posts, {len(rules)} rules ({sum('regex' in str(r) for r in RULES)} with regexes), "
        f"{len(queues)} queues; {os.cpu_count()} CPUs"
    )

    route_many(posts[:100], rules, model, queues=queues)  # warm caches and imports
    batched_100 = rate(lambda b: route_many(b, rules, model, queues=queues), posts, 100)
    batched_1000 = rate(lambda b: route_many(b, rules, model, queues=queues), posts, 1000)
    single = rate(lambda b: route(b[0], rules, model, queues=queues), posts[:1000], 1)
    print(f"route_many, batches of 100:   {batched_100:8,.0f} posts/s")
    print(f"route_many, batches of 1,000: {batched_1000:8,.0f} posts/s")
    print(f"route, one at a time:         {single:8,.0f} posts/s   (batched 1,000 is {batched_1000 / single:.1f}x)")

    # Where the time goes, in batches of 1,000.
    texts = [model_text(p) for p in posts]
    model_rate = rate(lambda b: model.top_labels([model_text(p) for p in b]), posts, 1000)
    sentiment_rate = len(texts) / _timed(lambda: sentiments(p.text + "!" for p in posts))  # "!" defeats the cache
    no_model = rate(lambda b: route_many(b, rules, None, queues=queues), posts, 1000)
    print(
        f"  of which: classifier alone {model_rate:,.0f}/s, VADER alone {sentiment_rate:,.0f}/s, "
        f"everything but the classifier {no_model:,.0f}/s"
    )
    decisions = route_many(posts, rules, model, queues=queues)
    by_reason = {"rule": 0, "mention": 0, "model": 0, "triage": 0}
    for d in decisions:
        reason = d.explanation["queue_reason"]
        key = (
            "rule"
            if reason.startswith("rule")
            else "mention"
            if reason.startswith("@")
            else "model"
            if d.explanation["model"] and d.explanation["model"]["chosen"]
            else "triage"
        )
        by_reason[key] += 1
    levels = {level: sum(d.priority == level for d in decisions) for level in ("urgent", "high", "normal", "low")}
    print(f"decided by: {by_reason}; levels: {levels}")


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
