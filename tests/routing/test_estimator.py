"""CalibratedLinearSVC: an SVM with softmax probabilities, for two or many classes."""

import numpy as np
import pytest

from routing.estimator import CalibratedLinearSVC


def blobs(n_classes, per_class=20, seed=0):
    """Return separable Gaussian blobs, one per class, around a circle (so one-vs-rest can split them)."""
    rng = np.random.default_rng(seed)
    centres = [(8 * np.cos(2 * np.pi * c / n_classes), 8 * np.sin(2 * np.pi * c / n_classes)) for c in range(n_classes)]
    X = np.vstack([rng.normal(loc=centre, size=(per_class, 2)) for centre in centres])
    y = np.repeat([f"c{c}" for c in range(n_classes)], per_class)
    return X, y


@pytest.mark.parametrize("n_classes", [2, 4])
def test_probabilities_are_a_distribution_that_agrees_with_predict(n_classes):
    """predict_proba rows sum to 1, follow classes_ order and pick the predicted class."""
    X, y = blobs(n_classes)
    clf = CalibratedLinearSVC().fit(X, y)
    probs = clf.predict_proba(X)
    assert probs.shape == (len(X), n_classes)
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert (clf.classes_[probs.argmax(axis=1)] == clf.predict(X)).all()
    assert (clf.predict(X) == y).mean() > 0.9
    assert clf.temperature_ > 0


def test_rare_classes_lower_the_folds_and_singletons_are_refused():
    """Two rows per class are enough (folds shrink to fit); one row is refused."""
    X, y = blobs(3, per_class=2)
    assert CalibratedLinearSVC(cv=5).fit(X, y).predict(X).shape == (6,)
    with pytest.raises(ValueError, match="two rows"):
        CalibratedLinearSVC().fit(X[:5], y[:5])
