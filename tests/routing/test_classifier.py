"""Classifier: trains, measures, gates promotion, persists signed, and routes."""

import json
import pickle
import random

import pytest

from routing import ModelError, Post, route_many
from routing.artifacts import load_model, read_metadata, save_model
from routing.classifier import build_pipeline, compare, evaluate, model_text, should_promote, split, train

KEY = b"test-secret-key"
TOPICS = {
    "billing": ["refund", "invoice", "charged", "payment", "bill", "subscription fee"],
    "cards": ["card", "debit card", "card declined", "new card", "card pin", "contactless"],
    "security": ["password", "hacked", "phishing", "two factor", "suspicious login", "account locked"],
    "shipping": ["parcel", "delivery", "courier", "tracking number", "package", "shipment"],
}
FRAMES = [
    "I have a question about my {}",
    "help with {} please",
    "why is my {} not right",
    "{} problem again",
    "can you check the {} for me",
    "there is an issue with the {}",
]


def dataset(seed=0, per_label=40):
    """Return (texts, labels) of templated support messages for four queues."""
    rng = random.Random(seed)
    rows = [
        (rng.choice(FRAMES).format(rng.choice(words)) + f" #{i}", label)
        for label, words in TOPICS.items()
        for i in range(per_label)
    ]
    rng.shuffle(rows)
    return [t for t, _ in rows], [label for _, label in rows]


@pytest.fixture(scope="module")
def model():
    """A model trained once on the templated data set."""
    texts, labels = dataset()
    return train(texts, labels, holdout=0.25, seed=0)


def test_build_pipeline_has_named_steps_and_takes_params():
    """The pipeline is word + char TF-IDF features feeding a linear classifier, tunable by name."""
    pipeline = build_pipeline(clf__C=0.5)
    assert list(pipeline.named_steps) == ["features", "clf"]
    assert [name for name, _ in pipeline.named_steps["features"].transformer_list] == ["word", "char"]
    assert pipeline.get_params()["clf__C"] == 0.5


def test_model_text_joins_subject_text_and_channel():
    """model_text puts subject, text and a channel token together, the same way every time."""
    assert model_text(Post(text="body", subject="subj", channel="forum")) == "subj\nbody\nchannel_forum"
    assert model_text(Post(text="body")) == "body"


def test_training_learns_and_records_its_metadata(model):
    """A trained model predicts clear texts and carries version, labels, metrics and versions."""
    assert model.predict_many(["my card was declined at the shop", "where is my parcel delivery"]) == [
        "cards",
        "shipping",
    ]
    assert set(model.labels) == set(TOPICS)
    assert model.training_size == 120
    assert model.metrics["n"] == 40
    assert model.metrics["accuracy"] >= 0.9
    assert set(model.metrics["per_class"]["cards"]) == {"precision", "recall", "f1", "support"}
    assert model.library_versions["scikit-learn"]
    assert json.loads(json.dumps(model.metadata()))["version"] == model.version


def test_top_labels_are_sorted_probabilities(model):
    """top_labels returns k labels per text, most probable first, probabilities in [0, 1]."""
    (labels,) = model.top_labels(["refund for a charged invoice"], k=3)
    assert len(labels) == 3 and labels[0][0] == "billing"
    probs = [p for _, p in labels]
    assert probs == sorted(probs, reverse=True) and all(0 <= p <= 1 for p in probs)
    assert model.predict_proba_many(["a", "b"]).shape == (2, 4)


def test_retraining_on_the_same_data_and_seed_gives_the_same_metrics(model):
    """Training is deterministic: same rows and seed, same metrics and predictions."""
    texts, labels = dataset()
    again = train(texts, labels, holdout=0.25, seed=0)
    assert again.metrics == model.metrics
    assert again.data_fingerprint == model.data_fingerprint
    probe = ["my password was hacked", "the courier lost my package"]
    assert (again.predict_proba_many(probe) == model.predict_proba_many(probe)).all()


def test_split_is_stratified_and_repeatable():
    """split() holds out the requested share, every label on both sides, the same for the same seed."""
    texts, labels = dataset()
    tr_t, tr_l, he_t, he_l = split(texts, labels, holdout=0.25, seed=3)
    assert len(he_t) == 40 and set(he_l) == set(tr_l) == set(TOPICS)
    assert split(texts, labels, holdout=0.25, seed=3)[2] == he_t
    assert split(texts, labels, holdout=0, seed=3)[2] == []


def test_rare_labels_are_skipped_and_bad_data_is_refused():
    """A label with a single example is left out; fewer than two labels cannot train."""
    texts, labels = dataset(per_label=10)
    m = train(texts + ["one lonely example"], labels + ["rare"], holdout=0)
    assert m.skipped_labels == ("rare",) and "rare" not in m.labels and m.metrics == {}
    with pytest.raises(ModelError, match="two labels"):
        train(["a", "b", "c"], ["x", "x", "x"], holdout=0)
    with pytest.raises(ModelError, match="labels"):
        train(["a"], ["x", "y"])


def test_evaluate_reports_confusions_and_coverage(model):
    """evaluate() gives accuracy, macro-F1, per-class figures, worst confusions and coverage by threshold."""
    metrics = evaluate(model, ["refund please", "my card pin", "parcel lost"], ["billing", "billing", "shipping"])
    assert metrics["n"] == 3
    assert metrics["accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    assert metrics["worst_confusions"][0] == {"true": "billing", "predicted": "cards", "count": 1}
    assert [c["threshold"] for c in metrics["coverage"]][:2] == [0.3, 0.4]


def test_promotion_gate():
    """Promote when at least as accurate on the same rows, or forced; refuse otherwise."""
    base = {"n": 10, "accuracy": 0.8, "macro_f1": 0.7, "eval_fingerprint": "abc"}
    assert should_promote(base, None)[0] is True
    assert should_promote(base, dict(base))[0] is True
    promote, reason = should_promote(base, {**base, "accuracy": 0.81})
    assert promote is False and "less accurate" in reason
    assert should_promote(base, {**base, "accuracy": 0.9}, force=True) == (True, "promotion forced by an admin")
    assert should_promote(base, {**base, "eval_fingerprint": "other"})[0] is False
    assert should_promote({}, base)[0] is False


def test_a_worse_model_is_not_promoted(model):
    """A candidate trained on scrambled labels loses to the active model on the same held-out rows."""
    texts, labels = dataset(seed=1)
    scrambled = labels[:]
    random.Random(0).shuffle(scrambled)
    worse = train(texts, scrambled, holdout=0)
    held_t, held_l = dataset(seed=2, per_label=10)
    result = compare(worse, model, held_t, held_l)
    assert result["promote"] is False
    assert result["candidate"]["accuracy"] < result["active"]["accuracy"]
    assert compare(model, worse, held_t, held_l)["promote"] is True


def test_save_and_load_round_trip(model, tmp_path):
    """A saved model loads with the same predictions; its metadata is readable without loading it."""
    path = save_model(model, tmp_path / "models", KEY)
    loaded = load_model(path, KEY)
    assert loaded.version == model.version
    probe = ["hacked account", "card declined"]
    assert (loaded.predict_proba_many(probe) == model.predict_proba_many(probe)).all()
    meta = read_metadata(path)
    assert meta["version"] == model.version and meta["metrics"]["accuracy"] == model.metrics["accuracy"]
    assert len(meta["hmac_sha256"]) == 64


def test_a_wrong_key_is_refused(model, tmp_path):
    """Loading with another key fails the signature check."""
    path = save_model(model, tmp_path, KEY)
    with pytest.raises(ModelError, match="signature"):
        load_model(path, b"another-key")


class _Exploit:
    """Unpickling this would write a marker file: proof that unverified bytes were loaded."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_tampered_file_is_refused_before_unpickling(model, tmp_path):
    """Changed model bytes fail the HMAC check, and the bytes are never unpickled."""
    path = save_model(model, tmp_path, KEY)
    marker = tmp_path / "pwned"
    path.write_bytes(pickle.dumps(_Exploit(str(marker))))
    with pytest.raises(ModelError, match="altered"):
        load_model(path, KEY)
    assert not marker.exists()
    flipped = save_model(model, tmp_path / "b", KEY)
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 0xFF
    flipped.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="signature"):
        load_model(flipped, KEY)


def test_missing_files_and_other_library_versions_are_refused(model, tmp_path):
    """No metadata, or a model from other scikit-learn versions, gives a clear ModelError."""
    with pytest.raises(ModelError, match="metadata"):
        load_model(tmp_path / "nothing.model", KEY)
    path = save_model(model, tmp_path, KEY)
    meta_path = path.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    meta["library_versions"]["scikit-learn"] = "0.1"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="retrain"):
        load_model(path, KEY)


def test_routing_with_a_trained_model(model):
    """route_many uses the model for posts no rule or mention routed, and explains it."""
    queues = frozenset(TOPICS) | {"triage"}
    posts = [Post(text="my debit card was declined"), Post(text="@billing where is my parcel")]
    first, second = route_many(posts, (), model, queues=queues)
    assert first.queue == "cards" and first.explanation["model"]["chosen"] is True
    assert first.explanation["model"]["version"] == model.version
    assert second.queue == "billing" and second.explanation["model"]["labels"][0][0] == "shipping"
