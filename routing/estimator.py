"""A linear SVM with probabilities from a softmax over its scores, temperature-calibrated.

Why not scikit-learn's CalibratedClassifierCV: it keeps one calibrator per
class and applies them one by one, which made a single prediction over 77
queues cost ~7 ms of per-class overhead. One temperature, fitted on
cross-validated scores, gives comparable calibration and a prediction that is
one matrix product and one softmax.

A single temperature cannot follow the whole reliability curve, though: on
Banking77 it left posts scored 0.7-0.9 right 9-12 points less often than
stated. So, given enough rows, the probability of the top class is then mapped
through an isotonic curve fitted on the same out-of-fold predictions (the
stated confidence becomes the accuracy seen at that confidence on held-out
folds), and the other classes share the rest in their softmax proportions.
That is one interpolation per post, and it never changes which class is top.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.svm import LinearSVC

# Bounds of log(temperature) searched: SVM margins are O(1), so temperatures
# from ~0.007 to ~150 cover every sensible sharpness.
_LOG_T_BOUNDS = (-5.0, 5.0)
# Fewer out-of-fold rows than this fit the temperature only: an isotonic curve
# on a few hundred points follows their noise.
MIN_ROWS_FOR_ISOTONIC = 1000


def _scores(svc: LinearSVC, X) -> np.ndarray:
    """Return one score column per class, also for two classes (where LinearSVC gives one)."""
    d = svc.decision_function(X)
    return np.column_stack([-d, d]) / 2 if d.ndim == 1 else d


class CalibratedLinearSVC(ClassifierMixin, BaseEstimator):
    """Linear SVM classifier whose predict_proba is softmax(scores / temperature_).

    Args:
        C: the SVM's regularisation strength (inverse).
        cv: folds used to collect out-of-fold scores for fitting the temperature;
            lowered automatically to the size of the rarest class (at least 2).
        random_state: seed of the SVM's coordinate descent.
        class_weight: "balanced" weighs each class inversely to its frequency, so a rare
            queue's errors cost as much as a common one's; None weighs rows equally.
    """

    def __init__(self, C: float = 1.0, cv: int = 3, random_state: int | None = 0,
                 class_weight: str | None = "balanced") -> None:
        self.C = C
        self.cv = cv
        self.random_state = random_state
        self.class_weight = class_weight

    def _svc(self) -> LinearSVC:
        return LinearSVC(C=self.C, random_state=self.random_state, class_weight=self.class_weight)

    def fit(self, X, y):
        """Fit the SVM on all rows and the temperature on out-of-fold scores.

        Args:
            X: feature matrix.
            y: labels; every class needs at least 2 rows.

        Returns:
            self.
        """
        y = np.asarray(y)
        self.classes_, counts = np.unique(y, return_counts=True)
        if len(self.classes_) < 2 or counts.min() < 2:
            raise ValueError("CalibratedLinearSVC needs at least two classes with two rows each")
        folds = StratifiedKFold(n_splits=int(min(self.cv, counts.min())))
        # One fold at a time: liblinear's random state is global, so folds fitted in threads would not repeat.
        out_of_fold = cross_val_predict(self._svc(), X, y, cv=folds, method="decision_function")
        if out_of_fold.ndim == 1:
            out_of_fold = np.column_stack([-out_of_fold, out_of_fold]) / 2
        truth = np.searchsorted(self.classes_, y)

        def nll(log_t: float) -> float:
            logp = log_softmax(out_of_fold / np.exp(log_t), axis=1)
            return -float(logp[np.arange(len(truth)), truth].mean())

        self.temperature_ = float(np.exp(minimize_scalar(nll, bounds=_LOG_T_BOUNDS, method="bounded").x))
        self.top_curve_ = None
        if len(truth) >= MIN_ROWS_FOR_ISOTONIC:
            probs = softmax(out_of_fold / self.temperature_, axis=1)
            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            iso.fit(probs.max(axis=1), probs.argmax(axis=1) == truth)
            self.top_curve_ = (iso.X_thresholds_, iso.y_thresholds_)
        self.svc_ = self._svc().fit(X, y)
        return self

    def decision_function(self, X) -> np.ndarray:
        """Return the SVM scores, one column per class."""
        return _scores(self.svc_, X)

    def predict_proba(self, X) -> np.ndarray:
        """Return calibrated class probabilities, columns in classes_ order."""
        probs = softmax(self.decision_function(X) / self.temperature_, axis=1)
        if getattr(self, "top_curve_", None) is None:
            return probs
        rows = np.arange(len(probs))
        top_index = probs.argmax(axis=1)
        top = probs[rows, top_index]
        others = probs.copy()
        others[rows, top_index] = 0.0
        second = others.max(axis=1)
        # The curve's value, but never below what keeps the top class on top once the others are rescaled.
        mapped = np.maximum(np.interp(top, *self.top_curve_), second / np.maximum(1.0 - top + second, 1e-12))
        scale = np.where(top < 1.0, (1.0 - mapped) / np.maximum(1.0 - top, 1e-12), 0.0)
        others *= scale[:, None]
        others[rows, top_index] = mapped
        return others

    def predict(self, X) -> np.ndarray:
        """Return the most probable class of each row."""
        return self.classes_[self.decision_function(X).argmax(axis=1)]
