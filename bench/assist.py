"""Benchmark agent-assist suggestions on Banking77: first and top-three macro, abstention, latency.

Each of the 77 intents is one macro (its name from the intent); train.csv
stands for the posts agents applied those macros to, test.csv is measured
(never fitted). Out-of-scope posts (OUT_OF_SCOPE below, written for this
bench: questions a bank's support desk has no macro for) should get nothing.
Latency: one post's suggestions with 100,000 past replies and 1,000 articles
indexed, against the same run's cost of merely vectorizing the post (the
baseline). Switchboard computes them in the worker after routing; the web
process only reads the stored rows.

    .venv/bin/python bench/assist.py [--data DIR] [--replies 100000]

DIR holds train.csv and test.csv (columns text, category); by default the
copy of Banking77 (PolyAI, CC BY 4.0) shipped in bench/data/banking77 with its
licence. Out-of-scope posts are measured twice: the bench's own list, and the
1,000 out-of-scope test posts of CLINC150 (bench/data/clinc150, CC BY 3.0).
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from suggestions.ranker import Ranker  # noqa: E402

BANKING77 = ROOT / "bench" / "data" / "banking77"
CLINC150_OUT_OF_SCOPE = ROOT / "bench" / "data" / "clinc150" / "oos_test.csv"
OUT_OF_SCOPE = [
    "what's the weather going to be like tomorrow", "can you recommend a good italian restaurant nearby",
    "how many calories are in a banana", "who won the football match last night",
    "what time does the pharmacy close", "play some jazz music", "set an alarm for 7am",
    "how do I make pancakes", "what is the capital of australia", "tell me a joke",
    "how tall is mount everest", "translate hello into spanish", "when is the next full moon",
    "how do I change a flat tyre", "what movies are showing tonight", "book me a table for two",
    "how long should I boil an egg", "what's a good name for a puppy", "remind me to call mum",
    "what's the traffic like on the motorway", "how do I get rid of ants in the kitchen",
    "is it going to snow this weekend", "what's the best way to learn guitar",
    "how many players are on a rugby team", "who wrote pride and prejudice",
    "my dog keeps barking at night what do I do", "suggest a podcast about history",
    "how do I reset my wifi router", "what's the population of canada", "how far is the moon",
    "can you order me a pizza", "what's your favourite colour", "how do I unclog a sink",
    "what are the symptoms of the flu", "how do I grow tomatoes on a balcony",
    "recommend a book for a long flight", "what's the time in tokyo right now",
    "how do I tie a tie", "who is the president of france", "what's the score in the cricket",
    "how do I remove a red wine stain", "find me a hotel in lisbon", "what does photosynthesis mean",
    "how many legs does a spider have", "turn off the living room lights", "what rhymes with orange",
    "how do you say thank you in japanese", "when was the eiffel tower built",
    "what is the speed of light", "how do I bake sourdough bread", "is the gym open on sundays",
    "what should I wear to a wedding", "how do I fix a squeaky door", "who painted the mona lisa",
    "what are good exercises for back pain", "my phone screen is cracked where can I fix it",
    "how do I make my plants grow faster", "what's on tv tonight", "how do I descale a kettle",
    "what's the tallest building in the world", "can cats eat chocolate", "how do I start running",
    "which train goes to the airport", "what's the difference between a frog and a toad",
    "how do I knit a scarf", "what year did the titanic sink", "what is the meaning of life",
    "how do I clean my oven", "what are the rules of chess", "how many days until christmas",
]


def read(path: Path) -> tuple[list[str], list[str]]:
    """Rows of a Banking77 CSV as (texts, categories)."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [r["text"] for r in rows], [r["category"] for r in rows]


def data_dir(given: str | None) -> Path:
    """The directory named, or the shipped copy of Banking77."""
    candidate = Path(given) if given else BANKING77
    if not (candidate / "train.csv").is_file():
        sys.exit(f"no Banking77 train.csv in {candidate}; pass --data DIR")
    return candidate


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile of values, in milliseconds."""
    return float(np.percentile(values, q)) * 1000


def main() -> None:
    """Train on train.csv, measure on test.csv and the out-of-scope posts, time one post at scale."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data")
    parser.add_argument("--replies", type=int, default=100_000)
    parser.add_argument("--articles", type=int, default=1_000)
    args = parser.parse_args()
    directory = data_dir(args.data)
    train_texts, train_labels = read(directory / "train.csv")
    test_texts, test_labels = read(directory / "test.csv")
    intents = sorted(set(train_labels))
    macro_of = {intent: i + 1 for i, intent in enumerate(intents)}
    macros = [(macro_of[intent], intent.replace("_", " ")) for intent in intents]
    applied = [(text, macro_of[label]) for text, label in zip(train_texts, train_labels, strict=True)]

    started = time.perf_counter()
    ranker = Ranker().fit(macros, applied)
    fit_s = time.perf_counter() - started
    results = ranker.suggest_many(test_texts)
    firsts = tops = 0
    for suggested, label in zip(results, test_labels, strict=True):
        ids = [c.ref for c in suggested.macros]
        firsts += bool(ids) and ids[0] == macro_of[label]
        tops += macro_of[label] in ids
    abstained = sum(not s.macros for s in ranker.suggest_many(OUT_OF_SCOPE))
    with CLINC150_OUT_OF_SCOPE.open(newline="", encoding="utf-8") as handle:
        clinc = [row["text"] for row in csv.DictReader(handle)]
    clinc_abstained = sum(not s.macros for s in ranker.suggest_many(clinc))
    print(f"Banking77 ({directory}): {len(intents)} macros, trained on {len(train_texts)} posts in {fit_s:.1f} s")
    print(f"  applied macro first:        {firsts / len(test_texts):.1%} of {len(test_texts)} test posts "
          "(target >= 90%)")
    print(f"  applied macro in top three: {tops / len(test_texts):.1%} (target >= 97%)")
    print(f"  nothing suggested:          {abstained / len(OUT_OF_SCOPE):.1%} of {len(OUT_OF_SCOPE)} "
          "out-of-scope posts written for this bench (target >= 60%)")
    print(f"  nothing suggested:          {clinc_abstained / len(clinc):.1%} of {len(clinc)} "
          "CLINC150 out-of-scope test posts (target >= 60%)")

    # Latency at scale: past replies are the training posts repeated with distinct reply texts.
    rng = random.Random(0)
    replies = [(rng.choice(train_texts) + f" ref {n}", n, f"reply {n}") for n in range(args.replies)]
    articles = [(n, " ".join(rng.sample(train_texts, 8))) for n in range(args.articles)]
    started = time.perf_counter()
    ranker = Ranker().fit(macros, applied, replies, articles)
    print(f"  indexed {args.replies} past replies and {args.articles} articles in "
          f"{time.perf_counter() - started:.1f} s")
    sample = [rng.choice(test_texts) for _ in range(500)]
    one, base = [], []
    for text in sample:
        t0 = time.perf_counter()
        ranker.suggest_many([text])
        t1 = time.perf_counter()
        ranker.words_.transform([text])
        base.append(time.perf_counter() - t1)
        one.append(t1 - t0)
    print(f"  one post's suggestions (macros, replies, articles), in the worker: p50 {percentile(one, 50):.2f} ms, "
          f"p99 {percentile(one, 99):.2f} ms (target p99 <= 50 ms); baseline, vectorizing the post alone: "
          f"p99 {percentile(base, 99):.2f} ms")


if __name__ == "__main__":
    main()
