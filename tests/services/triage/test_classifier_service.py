"""The classifier lifecycle: training from files and conversations, the promotion gate, rollback,
idempotent retraining, corrections that trigger a real retrain job, signed artifacts and reloading."""

import csv
import json
import random
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from routing import Post
from routing.text import model_text
from tests.factories import make_post
from workspace.errors import SwitchboardError, ValidationError
from workspace.extensions import db
from workspace.jobs.dispatch import dispatch_once
from workspace.jobs.enqueue import retrain_if_due
from workspace.models import AuditEntry, Author, Channel, Conversation, Correction, Message, ModelVersion, Queue, utcnow
from workspace.services.triage import classifier
from workspace.services.triage.classifier import loading

# Words that mark each queue, and words any post may contain.
VOCABULARY = {
    "billing": "invoice refund charged payment card subscription receipt price plan billed".split(),
    "tech": "crash error login outage upload sync bug timeout server broken".split(),
}
FILLER = "please help today my the app account again hello thanks urgent".split()


def labelled_rows(count: int, seed: int = 0) -> list[tuple[str, str]]:
    """Distinct generated (text, queue) rows, half billing and half tech, easy to tell apart."""
    rng = random.Random(seed)
    rows = []
    for number in range(count):
        label = ("billing", "tech")[number % 2]
        words = rng.sample(VOCABULARY[label], 3) + rng.sample(FILLER, 3)
        rng.shuffle(words)
        rows.append((f"{' '.join(words)} ref{seed}x{number}", label))
    return rows


def write_rows(path: Path, rows, header=("text", "label")) -> Path:
    """Write rows as CSV or JSONL, by the file's suffix."""
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(dict(zip(header, row, strict=True))) + "\n" for row in rows))
    else:
        with path.open("w", newline="") as handle:
            csv.writer(handle).writerows([header, *rows])
    return path


def shuffled_training_side(rows: list[tuple[str, str]], seed: int = 1) -> list[tuple[str, str]]:
    """The same rows with the labels of the rows used for training shuffled, the held-out ones intact."""
    texts, labels = [t for t, _ in rows], [lab for _, lab in rows]
    train_texts, train_labels, held_texts, held_labels = classifier.split_held_out(texts, labels)
    random.Random(seed).shuffle(train_labels)
    return list(zip(train_texts + held_texts, train_labels + held_labels, strict=True))


@pytest.fixture(autouse=True)
def isolated_models(app, tmp_path):
    """Each test writes model artifacts into its own directory."""
    app.config["MODEL_DIR"] = str(tmp_path / "models")


@pytest.fixture
def queues(app, channel):
    """The forum channel and the triage, billing and tech queues."""
    return channel


def train_rows(rows, **kwargs) -> dict:
    """Train through the service from (text, queue) rows."""
    return classifier.train_from_examples([t for t, _ in rows], [lab for _, lab in rows], source="file", **kwargs)


def active_version() -> str | None:
    return db.session.scalar(sa.select(ModelVersion.version).where(ModelVersion.active.is_(True)))


_authors = iter(range(10**9))


def add_conversations(rows, *, status="resolved", predicted=None, routed_at=None) -> list[int]:
    """Handled conversations in the forum channel, one per (text, final queue) row."""
    channel = db.session.scalar(sa.select(Channel).where(Channel.slug == "forum"))
    queue_ids = dict(db.session.execute(sa.select(Queue.slug, Queue.id)).all())
    author = Author(channel_id=channel.id, external_id=f"u-{next(_authors)}", handle="history")
    db.session.add(author)
    db.session.flush()
    conversations = []
    for number, (text, label) in enumerate(rows):
        conversation = Conversation(
            channel_id=channel.id, author_id=author.id, queue_id=queue_ids[label], status=status,
            routed_at=routed_at or utcnow(), predicted_queue=predicted[number] if predicted else label,
            routed_queue_id=queue_ids[label],
        )
        conversation.messages.append(Message(channel_id=channel.id, author_id=author.id, direction="inbound",
                                             external_id=f"h-{text}", text=text))
        conversations.append(conversation)
    db.session.add_all(conversations)
    db.session.commit()
    return [c.id for c in conversations]


def correct(conversation_id: int, to_slug: str) -> Correction:
    """An agent moves a conversation to another queue, as the console records it."""
    conversation = db.session.get(Conversation, conversation_id)
    to_queue = db.session.scalar(sa.select(Queue).where(Queue.slug == to_slug))
    model_input = model_text(Post(text=conversation.messages[0].text, subject=conversation.subject,
                                  channel=conversation.channel.slug))
    row = Correction(conversation_id=conversation_id, from_queue_id=conversation.queue_id, to_queue_id=to_queue.id,
                     text=model_input)
    conversation.queue_id = to_queue.id
    db.session.add(row)
    db.session.commit()
    return row


def test_an_untrained_start_has_no_model_and_still_routes(app, ctx, deliver, run_jobs):
    """With no version trained, current_model() is None and a post is still routed (to triage)."""
    assert classifier.current_model() is None
    conversation_id = deliver(make_post(text="something about nothing")).get_json()["conversation_id"]
    assert dispatch_once(10)
    run_jobs()
    conversation = db.session.get(Conversation, conversation_id)
    assert conversation.status == "open" and conversation.queue.slug == "triage"


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_training_from_a_file_stores_an_active_version_that_routes(queues, ctx, tmp_path, suffix):
    """A CSV or JSONL file trains a signed version with its metrics, which becomes active and predicts."""
    path = write_rows(tmp_path / f"train{suffix}", labelled_rows(200))
    outcome = classifier.train_from_file(path)
    assert outcome["active"] and not outcome["skipped"]
    row = classifier.get_version(outcome["version"])
    assert row.source == "file" and row.labels == ["billing", "tech"] and row.training_size < 200
    assert row.metrics["accuracy"] >= 0.9 and row.metrics["n"] + row.training_size == 200
    assert "scikit-learn" in row.library_versions and row.promoted_at is not None
    assert "no active model" in row.decision
    assert (Path(classifier.model_dir()) / row.artifact).is_file()
    model = classifier.current_model()
    assert model.version == row.version
    assert model.predict_many(["my invoice shows a refund I was charged twice", "login error crash"]) == [
        "billing", "tech"]


def test_a_file_may_give_subject_and_channel_as_model_inputs(queues, ctx, tmp_path):
    """Optional subject and channel columns join the text the way routing composes a post."""
    rows = [(text, "Help", "forum", label) for text, label in labelled_rows(60)]
    path = write_rows(tmp_path / "train.csv", rows, header=("text", "subject", "channel", "label"))
    texts, labels = classifier.read_labelled_file(path)
    assert texts[0] == f"Help\n{rows[0][0]}\nchannel_forum" and labels[:2] == ["billing", "tech"]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("missing.csv", None, "no such file"),
    ("nolabel.csv", "text,queue\nhello,billing\n", "missing column(s) label"),
    ("unknown.csv", "text,label\na,billing\nb,billing\nc,tech\nd,tech\ne,shipping\n", "'shipping' (1 rows)"),
    ("triage.csv", "text,label\na,billing\nb,billing\nc,triage\nd,triage\n", "'triage'"),
    ("single.csv", "text,label\na,billing\nb,billing\nc,billing\nd,tech\n", "at least 2 labels"),
    ("empty.csv", "text,label\na,billing\n,tech\n", "row 3: text is empty"),
    ("broken.jsonl", '{"text": "a", "label": "billing"}\nnot json\n', "line 2: not JSON"),
    ("notes.txt", "text,label\n", "expected a .csv or .jsonl file"),
])
def test_a_bad_training_file_is_refused_clearly_and_trains_nothing(queues, ctx, tmp_path, name, content, message):
    """Missing files, missing columns, unknown or triage labels, one usable class and bad rows are named."""
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        classifier.train_from_file(path)
    assert classifier.list_versions() == []


def test_a_worse_candidate_is_not_promoted_unless_forced(queues, ctx):
    """Judged on the same held-out rows, a model trained on shuffled labels loses; forcing promotes it."""
    good = train_rows(labelled_rows(240))
    bad = train_rows(shuffled_training_side(labelled_rows(240, seed=5)))
    assert not bad["active"] and not bad["skipped"]
    row = classifier.get_version(bad["version"])
    assert row.decision.startswith("Not promoted: candidate is less accurate") and good["version"] in row.decision
    assert active_version() == good["version"]
    classifier.promote(bad["version"], force=True)
    assert active_version() == bad["version"] and "Promoted (forced)" in row.decision
    assert classifier.current_model().version == bad["version"]


def test_forcing_a_retrain_on_identical_data_promotes_the_existing_version(queues, ctx):
    """Training a refused version's data again with force activates that version instead of a twin."""
    train_rows(labelled_rows(240))
    bad_rows = shuffled_training_side(labelled_rows(240, seed=5))
    refused = train_rows(bad_rows)
    forced = train_rows(bad_rows, force=True)
    assert forced["skipped"] and forced["version"] == refused["version"] and forced["active"]
    assert len(classifier.list_versions()) == 2


def test_promote_without_force_compares_on_held_out_conversations(queues, ctx):
    """An admin's unforced promotion is refused when the version does worse on held-out conversations."""
    good = train_rows(labelled_rows(240))
    bad = train_rows(shuffled_training_side(labelled_rows(240, seed=5)))
    add_conversations(labelled_rows(120, seed=9))
    with pytest.raises(SwitchboardError, match="not promoted: candidate is less accurate") as refused:
        classifier.promote(bad["version"])
    assert refused.value.code == "not_promoted" and active_version() == good["version"]


def test_rollback_reactivates_the_previous_version_and_is_audited(queues, ctx):
    """Rollback makes the previously active version active again; with none earlier it is refused."""
    with pytest.raises(SwitchboardError) as nothing:
        classifier.rollback()
    assert nothing.value.code == "nothing_to_roll_back"
    first = train_rows(labelled_rows(200))
    second = train_rows(labelled_rows(300, seed=3))
    assert second["active"] and classifier.current_model().version == second["version"]
    assert classifier.rollback().version == first["version"]
    assert active_version() == first["version"]
    assert classifier.current_model().version == first["version"]
    assert db.session.scalar(sa.select(sa.func.count()).where(ModelVersion.active.is_(True))) == 1
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "model.rollback"))
    assert entry.before == {"active": second["version"]} and entry.after == {"active": first["version"]}


def test_retraining_without_new_data_is_idempotent(queues, ctx):
    """A second retrain on unchanged conversations trains nothing and reports the same version and metrics."""
    ids = add_conversations(labelled_rows(200))
    first = classifier.retrain()
    assert first["active"] and not first["skipped"]
    again = classifier.retrain()
    assert again["skipped"] and again["version"] == first["version"] and again["metrics"] == first["metrics"]
    assert "no new training data" in again["decision"]
    assert [row.source for row in classifier.list_versions()] == ["retrain"]
    correct(ids[0], "tech")  # new information: the data changes, so a new version is trained
    third = classifier.retrain()
    assert not third["skipped"] and third["version"] != first["version"]
    assert db.session.scalar(sa.select(Correction.used_in_version)) == third["version"]


def test_training_from_conversations_uses_final_queues_and_corrections(queues, ctx):
    """Handled conversations outside triage give rows; new and triage ones do not; corrections add theirs."""
    add_conversations(labelled_rows(40))
    add_conversations([("still waiting", "billing")], status="new")
    add_conversations([("nobody looked", "triage")], status="open")
    ids = add_conversations([("moved by an agent", "billing")], status="escalated")
    correct(ids[0], "tech")
    texts, labels, unused = classifier.conversation_examples()
    assert len(texts) == 41 and (texts[-1], labels[-1]) == ("moved by an agent\nchannel_forum", "tech")
    assert len(unused) == 1


def test_enough_corrections_enqueue_one_retrain_that_a_real_worker_runs(app, queues, run_jobs):
    """Corrections below the threshold enqueue nothing; a burst past it enqueues one job; the worker retrains."""
    from workspace.infra.broker import job_queue

    app.config["RETRAIN_AFTER_CORRECTIONS"] = 3
    with app.app_context():
        ids = add_conversations(labelled_rows(200))
        job_ids = []
        for conversation_id in ids[:5]:
            correct(conversation_id, "tech" if conversation_id % 2 else "billing")
            job_ids.append(retrain_if_due())
        assert job_ids[:2] == [None, None] and len(set(job_ids[2:])) == 1
        assert job_queue().count == 1
    run_jobs()
    with app.app_context():
        versions = classifier.list_versions()
        assert [(row.source, row.active) for row in versions] == [("retrain", True)]
        assert set(db.session.scalars(sa.select(Correction.used_in_version))) == {versions[0].version}
        assert retrain_if_due() is None


def test_an_unreachable_redis_does_not_fail_a_correction(app, queues, ctx, monkeypatch, caplog):
    """With Redis down the retrain cannot be enqueued: retrain_if_due logs it and returns None."""
    from redis import Redis

    app.config["RETRAIN_AFTER_CORRECTIONS"] = 1
    correct(add_conversations(labelled_rows(2))[0], "tech")
    monkeypatch.setitem(app.extensions, "redis", Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2))
    assert retrain_if_due() is None
    assert "cannot enqueue the retrain job" in caplog.text


def test_a_tampered_artifact_is_never_loaded(queues, ctx, caplog):
    """An altered artifact fails its signature: it is not loaded, promoted or rolled back to."""
    first = train_rows(labelled_rows(200))
    second = train_rows(labelled_rows(300, seed=3))
    assert classifier.current_model().version == second["version"]
    artifact = Path(classifier.model_dir()) / classifier.get_version(first["version"]).artifact
    artifact.write_bytes(artifact.read_bytes() + b"tampered")
    with pytest.raises(classifier.ModelUnusable, match="signature check"):
        classifier.rollback()
    assert active_version() == second["version"]
    db.session.execute(sa.update(ModelVersion).values(active=ModelVersion.version == first["version"]))
    db.session.commit()
    loading.forget_loaded()
    assert classifier.current_model().version == second["version"]  # kept the good one it had
    assert "cannot load classifier version" in caplog.text


def test_a_promotion_elsewhere_reaches_this_process_after_the_reload_interval(app, queues, ctx, monkeypatch):
    """Another process changing the active version is seen once MODEL_RELOAD_SECONDS have passed."""
    first = train_rows(labelled_rows(200))
    second = train_rows(labelled_rows(300, seed=3))
    assert classifier.current_model().version == second["version"]
    db.session.execute(sa.update(ModelVersion).values(active=ModelVersion.version == first["version"]))
    db.session.commit()  # as a rollback in another process would
    now = loading.monotonic()
    monkeypatch.setattr(loading, "monotonic", lambda: now + 1)
    assert classifier.current_model().version == second["version"]
    monkeypatch.setattr(loading, "monotonic", lambda: now + app.config["MODEL_RELOAD_SECONDS"] + 1)
    assert classifier.current_model().version == first["version"]
    db.session.execute(sa.update(ModelVersion).values(active=False))
    db.session.commit()
    monkeypatch.setattr(loading, "monotonic", lambda: now + 2 * app.config["MODEL_RELOAD_SECONDS"] + 2)
    assert classifier.current_model() is None


def test_routing_accuracy_compares_predicted_and_final_queues(queues, ctx):
    """Accuracy counts recent routed conversations outside triage, per queue, with the corrected ones."""
    add_conversations([("a", "billing"), ("b", "billing"), ("c", "tech"), ("d", "tech")],
                      predicted=["billing", "tech", "tech", "tech"])
    ids = add_conversations([("e", "tech")])
    correct(ids[0], "billing")
    add_conversations([("f", "triage")], predicted=["billing"], status="open")
    add_conversations([("g", "billing")], predicted=["tech"], routed_at=utcnow() - timedelta(days=8))
    figures = classifier.routing_accuracy(days=7)
    assert (figures["total"], figures["correct"], figures["accuracy"]) == (5, 3, 0.6)
    assert (figures["corrected"], figures["in_triage"]) == (1, 1)
    assert figures["queues"] == {
        "billing": {"conversations": 3, "predicted": 1, "correct": 1, "accuracy": 0.3333},
        "tech": {"conversations": 2, "predicted": 4, "correct": 2, "accuracy": 1.0},
    }
    assert classifier.routing_accuracy(days=30)["total"] == 6
