"""Queue classifier: a scikit-learn Pipeline (word + character TF-IDF into a linear model).

Trained from (text, queue) pairs, measured on a held-out split, promoted only
through a gate, and persisted with an HMAC by routing.artifacts.

The default model is a linear SVM whose scores become probabilities through a
temperature-calibrated softmax (routing.estimator). On a split of Banking77's
train.csv (two 80/20 splits; test.csv never used for choosing) it was the
most accurate of the linear models we measured: logistic regression was
slightly less accurate and 2-5x slower to train, C=0.5 beat 1 and 2, and
longer word or character n-grams did not help. See bench/classifier.py.
A later 3-fold cross-validation of train.csv (December 2026, accuracy of the
SVM's top class, 0.8986 for these defaults, fold spread about 0.005) found no
change worth making: C 0.3/0.7/1.0 gave 0.8951/0.8979/0.8989, char_wb n-grams
1-5/2-6/3-5 0.8985/0.8962/0.8963, plain char n-grams 2-5 0.8953, word n-grams
1-1/1-3 0.8905/0.8956, char min_df 1 0.8986 and no class weights 0.8985.
"""

from __future__ import annotations

import platform
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import scipy
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import FeatureUnion, Pipeline

from routing import embeddings
from routing.errors import ModelError
from routing.estimator import CalibratedLinearSVC
from routing.evaluation import compare, evaluate, fingerprint, should_promote
from routing.features import DEFAULT_FEATURES, FEATURES, require
from routing.text import model_text

__all__ = [
    "FEATURES",
    "QueueModel",
    "build_pipeline",
    "compare",
    "evaluate",
    "feature_params",
    "model_text",
    "should_promote",
    "split",
    "train",
]

MIN_EXAMPLES = 2  # a label needs this many training rows to be learned (calibration folds need 2)


def build_pipeline(**params) -> Pipeline:
    """Build the untrained classifier pipeline.

    Args:
        **params: scikit-learn nested parameters overriding the defaults, e.g.
            ``clf__C=0.5`` or ``features__char__ngram_range=(2, 4)``.

    Returns:
        A Pipeline with steps "features" (a FeatureUnion of "word" and "char"
        TF-IDF vectorizers) and "clf" (a CalibratedLinearSVC).
    """
    features = FeatureUnion(
        [
            ("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, strip_accents="unicode")),
            # char_wb n-grams stay inside words: robust to typos and inflections, the
            # usual failure of word features on short customer messages.
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, strip_accents="unicode", min_df=2
                ),
            ),
        ]
    )
    # Five folds: the fold models are closer to the final one than with three, so the calibration fitted on
    # their scores fits it better (a split of Banking77's train.csv: expected calibration error 0.018
    # against 0.021), for about 1.6 times the training time.
    return Pipeline([("features", features), ("clf", CalibratedLinearSVC(C=0.5, cv=5))]).set_params(**params)


def feature_params(features: str = DEFAULT_FEATURES, *, embedding_weight: float = embeddings.EMBEDDING_WEIGHT) -> dict:
    """Return the build_pipeline() parameters of a named feature set.

    Args:
        features: a key of FEATURES.
        embedding_weight: multiplier of the embedding block against the TF-IDF ones ("embeddings" only).

    Returns:
        Nested pipeline parameters ({} for the default).

    Raises:
        ModelError: an unknown feature set, or "embeddings" without its optional packages installed.
    """
    require(features)
    if features == DEFAULT_FEATURES:
        return {}
    transformers = build_pipeline().named_steps["features"].transformer_list
    return {
        "features__transformer_list": [*transformers, ("embed", embeddings.SentenceEmbeddings())],
        "features__transformer_weights": {**{name: 1.0 for name, _ in transformers}, "embed": embedding_weight},
    }


@dataclass(slots=True)
class QueueModel:
    """A trained pipeline with the metadata that identifies and justifies it."""

    pipeline: Pipeline = field(repr=False)
    version: str
    labels: tuple[str, ...]
    metrics: dict
    training_size: int
    trained_at: str
    library_versions: dict
    params: dict = field(default_factory=dict)
    data_fingerprint: str = ""
    skipped_labels: tuple[str, ...] = ()
    # Last, so models pickled before it existed still unpickle (their metadata then says nothing: TF-IDF).
    features: str = DEFAULT_FEATURES

    def predict_proba_many(self, texts: Sequence[str]) -> np.ndarray:
        """Return class probabilities for texts in one batch.

        Args:
            texts: model inputs, composed by model_text().

        Returns:
            An array of shape (len(texts), len(self.labels)), columns in labels order.
        """
        return self.pipeline.predict_proba(list(texts))

    def predict_many(self, texts: Sequence[str]) -> list[str]:
        """Return the most probable label of each text.

        Args:
            texts: model inputs, composed by model_text().

        Returns:
            One label per text.
        """
        if not texts:
            return []
        probs = self.predict_proba_many(texts)
        return [self.labels[i] for i in probs.argmax(axis=1)]

    def top_labels(self, texts: Sequence[str], k: int = 3) -> list[list[tuple[str, float]]]:
        """Return the k most probable labels of each text, most probable first.

        Args:
            texts: model inputs, composed by model_text().
            k: how many labels to keep.

        Returns:
            For each text, [(label, probability), ...] of length min(k, number of labels).
        """
        if not texts:
            return []
        probs = self.predict_proba_many(texts)
        k = min(k, probs.shape[1])
        top = np.argsort(-probs, axis=1, kind="stable")[:, :k]
        labels = self.labels
        return [[(labels[j], float(row[j])) for j in idx] for row, idx in zip(probs, top, strict=True)]

    def metadata(self) -> dict:
        """Return the JSON-serialisable description of this model (everything but the pipeline)."""
        return {
            "version": self.version,
            "labels": list(self.labels),
            "metrics": self.metrics,
            "training_size": self.training_size,
            "trained_at": self.trained_at,
            "library_versions": self.library_versions,
            "params": self.params,
            "data_fingerprint": self.data_fingerprint,
            "skipped_labels": list(self.skipped_labels),
            "features": self.features,
        }


def library_versions() -> dict:
    """Return the versions that must match for a saved model to load safely."""
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }


def split(texts: Sequence[str], labels: Sequence[str], *, holdout: float = 0.2, seed: int = 0):
    """Split labelled rows into training and held-out parts, stratified where classes allow.

    Args:
        texts: the texts.
        labels: their labels.
        holdout: fraction held out, in [0, 1); 0 keeps everything for training.
        seed: the shuffling seed (same seed, same split).

    Returns:
        (train_texts, train_labels, held_texts, held_labels) as lists.
    """
    texts, labels = list(texts), list(labels)
    if not 0 <= holdout < 1:
        raise ModelError(f"holdout must be in [0, 1), got {holdout}")
    n_held = int(round(len(texts) * holdout))
    if n_held == 0:
        return texts, labels, [], []
    counts = Counter(labels)
    # Stratify when every class can be on both sides; otherwise a plain shuffle.
    stratify = labels if min(counts.values()) >= 2 and len(counts) <= n_held <= len(texts) - len(counts) else None
    tr_t, he_t, tr_l, he_l = train_test_split(texts, labels, test_size=n_held, random_state=seed, stratify=stratify)
    return tr_t, tr_l, he_t, he_l


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    holdout: float = 0.2,
    seed: int = 0,
    params: dict | None = None,
    features: str = DEFAULT_FEATURES,
) -> QueueModel:
    """Train a queue model, measuring it on a held-out split of the rows.

    Labels with fewer than MIN_EXAMPLES training rows are left out of the model
    (listed in skipped_labels). The same rows, seed and params give the same model
    and metrics.

    Args:
        texts: model inputs, composed by model_text().
        labels: the queue of each text.
        holdout: fraction held out for metrics; 0 trains on everything and leaves metrics empty.
        seed: seed of the split and of the SVM.
        params: nested pipeline parameters passed to build_pipeline(), over those of the feature set.
        features: the feature set, a key of FEATURES (stored with the model).

    Returns:
        The trained QueueModel with metrics on the held-out rows.

    Raises:
        ModelError: if the data cannot train a model (mismatched lengths, fewer than two labels), or the
            feature set is unknown or needs packages that are not installed.
    """
    feature_set = feature_params(features)
    texts, labels = list(texts), [str(label) for label in labels]
    if len(texts) != len(labels):
        raise ModelError(f"{len(texts)} texts but {len(labels)} labels")
    tr_t, tr_l, he_t, he_l = split(texts, labels, holdout=holdout, seed=seed)
    counts = Counter(tr_l)
    skipped = tuple(sorted(label for label, n in counts.items() if n < MIN_EXAMPLES))
    if skipped:
        keep = [i for i, label in enumerate(tr_l) if label not in skipped]
        tr_t, tr_l = [tr_t[i] for i in keep], [tr_l[i] for i in keep]
        counts = Counter(tr_l)
    if len(counts) < 2:
        raise ModelError(f"training needs at least two labels with {MIN_EXAMPLES}+ examples each; got {len(counts)}")
    params = dict(params or {})
    pipeline = build_pipeline(**{"clf__random_state": seed, **feature_set, **params})
    pipeline.fit(tr_t, tr_l)
    for _, vectorizer in pipeline.named_steps["features"].transformer_list:
        # stop_words_ holds every pruned n-gram: large, and unused for prediction.
        if hasattr(vectorizer, "stop_words_"):
            del vectorizer.stop_words_
    trained_at = datetime.now(UTC)
    data_fp = fingerprint(texts, labels)
    model = QueueModel(
        pipeline=pipeline,
        version=f"{trained_at:%Y%m%dT%H%M%SZ}-{data_fp[:8]}",
        labels=tuple(str(c) for c in pipeline.classes_),
        metrics={},
        training_size=len(tr_t),
        trained_at=trained_at.isoformat(),
        library_versions=library_versions(),
        params={k: repr(v) for k, v in params.items()},
        data_fingerprint=data_fp,
        skipped_labels=skipped,
        features=features,
    )
    if he_t:
        model.metrics = evaluate(model, he_t, he_l)
    return model


