"""Compare the admin's path (`flask routing train` + `evaluate`) with a default TF-IDF + LinearSVC, three seeds.

An admin with a history of labelled complaints trains Switchboard from a file
whose labels are not queue slugs. For each seed the rows are split 80/20
(stratified); the training part goes through the real CLI
(`flask routing train --file ... --mapping ... --create-queues --all`, on a
fresh SQLite database), the test part through `flask routing evaluate --file`;
a scikit-learn TfidfVectorizer() + LinearSVC() with default settings is trained
and measured on the same split in the same run. Prints accuracy, macro-F1,
expected calibration error and the lowest per-class recall side by side.

    .venv/bin/python bench/admin_path.py --data PATH [--text-column text --label-column label]

The data is any CSV of labelled posts. The figures in the issue come from the
Twitter US Airline Sentiment set (Crowdflower, CC BY-NC-SA 4.0, kept apart from
the project): its ~9,000 negative tweets, labelled by `negativereason`
(10 classes), with `--label-column negativereason`; rows with an empty label
are skipped.
"""

from __future__ import annotations

import argparse
import csv
import re
import statistics
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score, recall_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from workspace import create_app  # noqa: E402
from workspace.extensions import db  # noqa: E402
from workspace.services.triage import classifier  # noqa: E402

SEEDS = (0, 1, 2)


def read_rows(path: Path, text_column: str, label_column: str) -> tuple[list[str], list[str]]:
    """Read the labelled rows, skipping those without a label."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [(r[text_column], r[label_column]) for r in csv.DictReader(handle) if r[label_column].strip()]
    return [t for t, _ in rows], [label for _, label in rows]


def write_csv(path: Path, header: tuple[str, str], rows) -> Path:
    """Write a two-column CSV."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


def slug(label: str) -> str:
    """A queue slug an admin might choose for a label."""
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:64] or "other"


def admin_path(workdir: Path, train: list[tuple[str, str]], test: list[tuple[str, str]]) -> dict:
    """Train and evaluate through the CLI on a fresh database; return the evaluate metrics."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir}/switchboard.db", "SECRET_KEY": uuid.uuid4().hex,
                      "MODEL_DIR": str(workdir / "models"), "DISPATCHER_ENABLED": False,
                      "DASHBOARD_PUSHER_ENABLED": False})
    with app.app_context():
        db.create_all()
    labels = sorted({label for _, label in train})
    mapping = write_csv(workdir / "mapping.csv", ("label", "queue"), [(label, slug(label)) for label in labels])
    runner = app.test_cli_runner()
    trained = runner.invoke(args=["routing", "train", "--file", str(write_csv(workdir / "train.csv", ("text", "label"),
                                                                                train)),
                                  "--mapping", str(mapping), "--create-queues", "--all"])
    if trained.exit_code != 0:
        raise SystemExit(f"train failed: {trained.output}")
    test_path = write_csv(workdir / "test.csv", ("text", "label"), [(t, slug(label)) for t, label in test])
    shown = runner.invoke(args=["routing", "evaluate", "--file", str(test_path)])
    if shown.exit_code != 0:
        raise SystemExit(f"evaluate failed: {shown.output}")
    with app.app_context():
        return classifier.evaluate_version(None, test_path)["metrics"]


def main() -> None:
    """Run both paths on three seeds and print the figures side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--label-column", default="label")
    args = parser.parse_args()
    texts, labels = read_rows(args.data, args.text_column, args.label_column)
    print(f"{args.data.name}: {len(texts)} rows, {len(set(labels))} labels; 80/20 split, seeds {SEEDS}")
    print(f"{'seed':>4} | {'admin acc':>9} {'F1':>6} {'ECE':>6} {'min recall':>10} | "
          f"{'default acc':>11} {'F1':>6} {'min recall':>10}")
    figures: dict[str, list[float]] = {key: [] for key in ("acc", "f1", "ece", "base_acc", "base_f1")}
    for seed in SEEDS:
        tr_t, te_t, tr_l, te_l = train_test_split(texts, labels, test_size=0.2, random_state=seed, stratify=labels)
        with tempfile.TemporaryDirectory(prefix="switchboard-admin-path-") as workdir:
            metrics = admin_path(Path(workdir), list(zip(tr_t, tr_l, strict=True)), list(zip(te_t, te_l, strict=True)))
        baseline = make_pipeline(TfidfVectorizer(), LinearSVC()).fit(tr_t, tr_l)
        predicted = baseline.predict(te_t)
        base_acc, base_f1 = accuracy_score(te_l, predicted), f1_score(te_l, predicted, average="macro")
        base_recall = min(recall_score(te_l, predicted, average=None, zero_division=0))
        admin_recall = min(c["recall"] for c in metrics["per_class"].values())
        for key, value in zip(figures, (metrics["accuracy"], metrics["macro_f1"], metrics["ece"], base_acc, base_f1),
                              strict=True):
            figures[key].append(value)
        print(f"{seed:>4} | {metrics['accuracy']:9.4f} {metrics['macro_f1']:6.4f} {metrics['ece']:6.4f} "
              f"{admin_recall:10.3f} | {base_acc:11.4f} {base_f1:6.4f} {base_recall:10.3f}")
    mean = {key: statistics.fmean(values) for key, values in figures.items()}
    print(f"mean | {mean['acc']:9.4f} {mean['f1']:6.4f} {mean['ece']:6.4f} {'':>10} | "
          f"{mean['base_acc']:11.4f} {mean['base_f1']:6.4f}")
    print(f"admin path minus default: accuracy {mean['acc'] - mean['base_acc']:+.4f}, "
          f"macro-F1 {mean['f1'] - mean['base_f1']:+.4f}")


if __name__ == "__main__":
    main()
