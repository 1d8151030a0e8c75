"""Benchmark language detection (routing.language) on short sentences in each supported language.

Reads bench/data/languages/<code>.txt (shipped with the project, see its
README), detects each line's language in batches, and prints accuracy overall
and per language, and posts/s in batches and one at a time, beside VADER
sentiment on the same posts as a same-run baseline. With --compare it also
measures, in the same run, the detectors routing.language did not choose:
high-accuracy mode over the same languages, and low-accuracy mode over all of
lingua's. Prints figures; asserts nothing.

    .venv/bin/python bench/language.py [--batch 1000] [--compare]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lingua import IsoCode639_1, Language, LanguageDetectorBuilder  # noqa: E402

from routing.language import MAX_CHARS, SUPPORTED, detect, detect_many  # noqa: E402
from routing.sentiment import sentiments  # noqa: E402

DATA = Path(__file__).resolve().parent / "data" / "languages"


def alternatives(texts: list[str], truth: list[str], batch: int) -> None:
    """Measure the detectors not chosen on the same sentences: accuracy and posts/s in parallel batches."""
    ours = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in SUPPORTED]
    builders = {
        "high-accuracy mode, the 19 languages": LanguageDetectorBuilder.from_languages(*ours),
        "low-accuracy mode, all 75 languages": LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode(),
    }
    clipped = [t[:MAX_CHARS] for t in texts]
    for name, builder in builders.items():
        detector = builder.with_preloaded_language_models().build()
        start = time.perf_counter()
        found = [lang for i in range(0, len(clipped), batch)
                 for lang in detector.detect_languages_in_parallel_of(clipped[i : i + batch])]
        rate = len(texts) / (time.perf_counter() - start)
        codes = [lang.iso_code_639_1.name.lower() if lang is not None else "" for lang in found]
        accuracy = sum(c == t for c, t in zip(codes, truth, strict=True)) / len(truth)
        print(f"  same run, {name}: accuracy {accuracy:.4f}, {rate:,.0f} posts/s in batches of {batch}")


def main() -> None:
    """Load the sentences, detect them, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1000, help="posts per detect_many() call")
    parser.add_argument("--compare", action="store_true", help="also measure the detectors not chosen")
    args = parser.parse_args()
    texts, truth = [], []
    for code in SUPPORTED:
        lines = [line for line in (DATA / f"{code}.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
        texts += lines
        truth += [code] * len(lines)
    start = time.perf_counter()
    detect("warm-up: the detector and its models load once per process")
    load_s = time.perf_counter() - start
    mean_chars = sum(map(len, texts)) / len(texts)
    print(f"{len(texts)} sentences in {len(SUPPORTED)} languages, {mean_chars:.0f} characters on average; "
          f"{os.cpu_count()} CPUs; detector loaded in {load_s:.2f} s")

    start = time.perf_counter()
    found = [code for i in range(0, len(texts), args.batch) for code in detect_many(texts[i : i + args.batch])]
    batch_s = time.perf_counter() - start
    start = time.perf_counter()
    for text in texts[:2000]:
        detect(text)
    single_rate = 2000 / (time.perf_counter() - start)
    # Same-run baseline: the per-post work routing already did before languages (VADER), on the same posts.
    start = time.perf_counter()
    sentiments([f"{text} #{i}" for i, text in enumerate(texts)])  # numbered: VADER's cache must not answer
    vader_rate = len(texts) / (time.perf_counter() - start)
    right = [f == t for f, t in zip(found, truth, strict=True)]
    print(f"accuracy:   {sum(right) / len(right):.4f}")
    print(f"throughput: {len(texts) / batch_s:,.0f} posts/s in batches of {args.batch}, "
          f"{single_rate:,.0f} posts/s one at a time (baseline, same run: VADER sentiment {vader_rate:,.0f} posts/s)")
    per = {code: [r for r, t in zip(right, truth, strict=True) if t == code] for code in SUPPORTED}
    print("per language: " + "  ".join(f"{code} {sum(r) / len(r):.3f}" for code, r in per.items()))
    errors: dict[tuple[str, str], int] = {}
    for f, t in zip(found, truth, strict=True):
        if f != t:
            errors[(t, f)] = errors.get((t, f), 0) + 1
    worst = sorted(errors.items(), key=lambda item: -item[1])[:5]
    print("most confused (true->found): " + ", ".join(f"{t}->{f or 'none'} ({n})" for (t, f), n in worst))
    if args.compare:
        alternatives(texts, truth, args.batch)


if __name__ == "__main__":
    main()
