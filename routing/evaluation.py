"""Measuring a queue model: accuracy, macro-F1, per-queue recall, calibration, coverage; and the promotion gate.

Everything an admin reads before trusting a version (``flask routing evaluate``)
and what the gate compares: a candidate must be at least as accurate as the
active model on the same held-out rows and no worse calibrated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from routing.errors import ModelError

# Confidence thresholds at which evaluate() reports coverage and accuracy, so
# admins can pick per-queue thresholds from evidence.
COVERAGE_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
WORST_CONFUSIONS = 10
# Equal-width confidence bins of the reliability table and the expected calibration error.
RELIABILITY_BINS = 10
# A candidate whose expected calibration error exceeds the active model's by more than this is
# not promoted: its thresholds would mean something else. The margin absorbs the noise of
# measuring calibration on a few hundred rows.
ECE_TOLERANCE = 0.01

class ScoredModel(Protocol):
    """What measuring needs of a model (routing.classifier.QueueModel is one)."""

    labels: tuple[str, ...]

    def predict_proba_many(self, texts: Sequence[str]) -> np.ndarray:
        """Return class probabilities, columns in labels order."""


def fingerprint(texts: Sequence[str], labels: Sequence[str]) -> str:
    """Return a SHA-256 digest identifying a labelled data set, order included.

    Args:
        texts: the texts.
        labels: their labels.

    Returns:
        A hex digest; equal digests mean the same rows in the same order.
    """
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(text.encode("utf-8", "surrogatepass") + b"\x1f" + label.encode() + b"\x1e")
    return digest.hexdigest()



def evaluate(model: ScoredModel, texts: Sequence[str], labels: Sequence[str]) -> dict:
    """Measure a model on labelled rows.

    Args:
        model: the model.
        texts: model inputs, composed by model_text().
        labels: their true queues.

    Returns:
        JSON-serialisable metrics: n, accuracy, macro_f1 (over the true labels),
        per_class {label: precision, recall, f1, support}, worst_confusions
        [{true, predicted, count}], coverage [{threshold, coverage, accuracy}]
        and eval_fingerprint (identifies the rows, for the promotion gate).
    """
    texts, truth = list(texts), [str(label) for label in labels]
    if len(texts) != len(truth):
        raise ModelError(f"{len(texts)} texts but {len(truth)} labels")
    if not texts:
        raise ModelError("cannot evaluate on zero rows")
    probs = model.predict_proba_many(texts)
    predicted = np.asarray(model.labels, dtype=object)[probs.argmax(axis=1)]
    confidence = probs.max(axis=1)
    correct = predicted == np.asarray(truth, dtype=object)
    present = sorted(set(truth))
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=present, zero_division=0)
    every = sorted(set(truth) | set(predicted))
    matrix = confusion_matrix(truth, predicted, labels=every)
    np.fill_diagonal(matrix, 0)
    worst = np.argsort(-matrix, axis=None, kind="stable")[:WORST_CONFUSIONS]
    confusions = [
        {"true": every[i], "predicted": every[j], "count": int(matrix[i, j])}
        for i, j in zip(*np.unravel_index(worst, matrix.shape), strict=True)
        if matrix[i, j] > 0
    ]
    predicted_labels = set(predicted)
    never = sorted(label for label in present if label not in predicted_labels)
    coverage = []
    for threshold in COVERAGE_THRESHOLDS:
        kept = confidence >= threshold
        coverage.append(
            {
                "threshold": threshold,
                "coverage": round(float(kept.mean()), 4),
                "accuracy": round(float(correct[kept].mean()), 4) if kept.any() else None,
            }
        )
    return {
        "n": len(texts),
        "accuracy": round(float(accuracy_score(truth, predicted)), 6),
        "macro_f1": round(float(f1_score(truth, predicted, labels=present, average="macro", zero_division=0)), 6),
        "per_class": {
            label: {
                "precision": round(float(p), 4),
                "recall": round(float(r), 4),
                "f1": round(float(f), 4),
                "support": int(s),
            }
            for label, p, r, f, s in zip(present, precision, recall, f1, support, strict=True)
        },
        "worst_confusions": confusions,
        "never_predicted": never,
        "coverage": coverage,
        **calibration(confidence, correct),
        "eval_fingerprint": fingerprint(texts, truth),
    }


def calibration(confidence: np.ndarray, correct: np.ndarray, bins: int = RELIABILITY_BINS) -> dict:
    """Measure how well stated confidence matches accuracy.

    Args:
        confidence: the probability of each prediction.
        correct: whether each prediction was right.
        bins: equal-width confidence bins over (0, 1].

    Returns:
        {"ece": the expected calibration error (the row-weighted mean gap between
        confidence and accuracy over the bins), "reliability": [{"low", "high",
        "n", "confidence", "accuracy"}] for each non-empty bin}.
    """
    edges = np.linspace(0.0, 1.0, bins + 1)
    # Bin i holds confidences in (edges[i], edges[i+1]]; a confidence of exactly 0 joins the first.
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    table, ece = [], 0.0
    for i in range(bins):
        rows = which == i
        n = int(rows.sum())
        if not n:
            continue
        conf, acc = float(confidence[rows].mean()), float(correct[rows].mean())
        ece += n / len(confidence) * abs(conf - acc)
        table.append({"low": round(float(edges[i]), 2), "high": round(float(edges[i + 1]), 2), "n": n,
                      "confidence": round(conf, 4), "accuracy": round(acc, 4)})
    return {"ece": round(ece, 4), "reliability": table}


def should_promote(candidate_metrics: dict, active_metrics: dict | None, *, force: bool = False) -> tuple[bool, str]:
    """Decide whether a candidate model may replace the active one.

    The candidate must score at least the active model's accuracy on the same
    held-out rows (same eval_fingerprint), and its expected calibration error
    may exceed the active model's by at most ECE_TOLERANCE (an admin's
    thresholds are confidences: a worse-calibrated model would route
    differently at the same threshold). Macro-F1 is reported, not gated, so a
    small F1 wobble cannot block a more accurate model.

    Args:
        candidate_metrics: evaluate() output for the candidate.
        active_metrics: evaluate() output for the active model on the same rows, or None if there is none.
        force: an admin's override.

    Returns:
        (promote, reason) with a one-sentence reason.
    """
    if force:
        return True, "promotion forced by an admin"
    if not candidate_metrics or "accuracy" not in candidate_metrics:
        return False, "the candidate has no held-out metrics"
    if not active_metrics:
        return True, "there is no active model to beat"
    if candidate_metrics.get("eval_fingerprint") != active_metrics.get("eval_fingerprint"):
        return False, "the candidate and the active model were not measured on the same held-out rows"
    cand, act = candidate_metrics["accuracy"], active_metrics["accuracy"]
    detail = (
        f"accuracy {cand:.4f} vs active {act:.4f} (macro-F1 {candidate_metrics['macro_f1']:.4f} "
        f"vs {active_metrics['macro_f1']:.4f}) on {candidate_metrics['n']} held-out rows"
    )
    if cand < act:
        return False, f"candidate is less accurate: {detail}"
    cand_ece, act_ece = candidate_metrics.get("ece"), active_metrics.get("ece")
    if cand_ece is not None and act_ece is not None and cand_ece > act_ece + ECE_TOLERANCE:
        return False, (f"candidate is worse calibrated: expected calibration error {cand_ece:.4f} vs active "
                       f"{act_ece:.4f} (tolerance {ECE_TOLERANCE}); {detail}")
    return True, f"candidate is at least as accurate and as well calibrated: {detail}"


def compare(
    candidate: ScoredModel,
    active: ScoredModel | None,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    force: bool = False,
) -> dict:
    """Evaluate a candidate and the active model on the same rows and apply the promotion gate.

    Args:
        candidate: the newly trained model.
        active: the model in force, or None.
        texts: held-out model inputs that neither model was trained on.
        labels: their true queues.
        force: an admin's override.

    Returns:
        {"promote": bool, "reason": str, "candidate": metrics, "active": metrics or None}.
    """
    cand = evaluate(candidate, texts, labels)
    act = evaluate(active, texts, labels) if active is not None else None
    promote, reason = should_promote(cand, act, force=force)
    return {"promote": promote, "reason": reason, "candidate": cand, "active": act}
