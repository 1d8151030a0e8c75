"""Training an admin can trust: rare queues learned, never-predicted queues named, calibration measured and gated."""

import random

import numpy as np
import pytest

from routing.classifier import compare, evaluate, should_promote, train
from routing.evaluation import calibration
from tests.routing.test_classifier import FRAMES, TOPICS, dataset


def rare_dataset(seed=0, common=60, rare=6):
    """Three common queues and one rare one (refunds), in templated posts."""
    rng = random.Random(seed)
    sizes = {"billing": common, "cards": common, "security": common, "shipping": rare}
    rows = [(rng.choice(FRAMES).format(rng.choice(TOPICS[label])) + f" #{i}", label)
            for label, n in sizes.items() for i in range(n)]
    rng.shuffle(rows)
    return [t for t, _ in rows], [label for _, label in rows]


def test_a_rare_queue_is_still_predicted_thanks_to_class_weights():
    """With six rows against sixty, the rare queue's posts are recalled, and no queue goes unpredicted."""
    texts, labels = rare_dataset()
    model = train(texts, labels, holdout=0, seed=0)
    held_t, held_l = rare_dataset(seed=3, common=10, rare=10)
    metrics = evaluate(model, held_t, held_l)
    assert metrics["per_class"]["shipping"]["recall"] >= 0.8
    assert metrics["never_predicted"] == []


def test_evaluate_names_the_queues_never_predicted():
    """A queue in the measured rows that the model never predicts is named (here: one it never learned)."""
    texts, labels = dataset(per_label=20)
    keep = [i for i, label in enumerate(labels) if label != "shipping"]
    model = train([texts[i] for i in keep], [labels[i] for i in keep], holdout=0)
    held_t, held_l = dataset(seed=2, per_label=5)
    assert evaluate(model, held_t, held_l)["never_predicted"] == ["shipping"]


def test_calibration_reports_the_gap_between_confidence_and_accuracy():
    """Perfectly calibrated bins have no error; stated 0.95 but right half the time is a 0.45 error."""
    confidence = np.array([0.95] * 4 + [0.55] * 4)
    right = calibration(confidence, np.array([True, False] * 4))
    assert right["ece"] == pytest.approx(0.5 * 0.45 + 0.5 * 0.05, abs=1e-4)
    assert [(row["low"], row["n"], row["accuracy"]) for row in right["reliability"]] == [(0.5, 4, 0.5), (0.9, 4, 0.5)]
    assert calibration(np.array([1.0, 1.0]), np.array([True, True]))["ece"] == 0.0


def test_a_worse_calibrated_model_is_not_promoted():
    """Same predictions, but a temperature making it unsure of everything: refused by the gate, not by accuracy."""
    texts, labels = dataset(seed=1)
    held_t, held_l = dataset(seed=2, per_label=10)
    active = train(texts, labels, holdout=0)
    candidate = train(texts, labels, holdout=0)
    # Scores divided by a huge temperature: every post claims about 1/4 confidence, though nearly all are right.
    candidate.pipeline.named_steps["clf"].temperature_ *= 100
    result = compare(candidate, active, held_t, held_l)
    assert result["candidate"]["accuracy"] == result["active"]["accuracy"]
    assert result["candidate"]["ece"] > result["active"]["ece"]
    assert result["promote"] is False and "worse calibrated" in result["reason"]
    assert compare(active, candidate, held_t, held_l)["promote"] is True


def test_the_gate_tolerates_calibration_noise():
    """A calibration error within the tolerance of the active model's does not block a promotion."""
    base = {"n": 100, "accuracy": 0.9, "macro_f1": 0.9, "eval_fingerprint": "x", "ece": 0.03}
    assert should_promote({**base, "ece": 0.035}, base)[0] is True
    assert should_promote({**base, "ece": 0.05}, base)[0] is False
