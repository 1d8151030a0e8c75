"""Training versions through the promotion gate, and choosing the active one (promote, roll back)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from routing import ModelError
from routing.features import DEFAULT_FEATURES, require
from workspace.errors import NotFound, SwitchboardError, ValidationError
from workspace.extensions import db
from workspace.models import Agent, Correction, ModelVersion, utcnow
from workspace.services import audit
from workspace.services.triage.classifier.data import (
    check_labels,
    conversation_examples,
    create_missing_queues,
    map_labels,
    read_labelled_file,
    split_held_out,
)
from workspace.services.triage.classifier.loading import (
    ModelUnusable,
    artifact_key,
    forget_loaded,
    load_artifact,
    load_version,
    model_dir,
)

if TYPE_CHECKING:  # scikit-learn loads only when training or measuring, so the web app starts light
    from routing.classifier import QueueModel  # lazy: scikit-learn, which the web process never loads

SEED = 0  # fixed, so the same data trains the same model
# Suffix of the version name of a gate twin (the model measured by the gate when the saved one saw every row).
GATE_TWIN = "-gate"


def gate_artifact(row: ModelVersion) -> str:
    """Return the artifact a gate measures for a version: its gate twin if it has one, else itself."""
    return (row.metrics or {}).get("gate_artifact") or row.artifact


def train_from_file(path: str | Path, *, mapping: Mapping[str, str] | None = None, create_queues: bool = False,
                    fit_all: bool = False, force: bool = False, agent: Agent | None = None,
                    features: str = DEFAULT_FEATURES) -> dict:
    """Train a version from a CSV or JSONL file of `text,label` rows and put it through the promotion gate.

    Args:
        path: the file (an admin's labelled history).
        mapping: label -> queue slug, for labels that are not queue slugs themselves.
        create_queues: create the queues that the (mapped) labels name and that do not exist yet.
        fit_all: after the gate, train the saved model on every row (see train_from_examples).
        force: make it active even if it scores worse than the active version.
        agent: who asked, for the audit log.
        features: the feature set (routing.features.FEATURES), stored with the version.
    """
    check_features(features)
    texts, labels = read_labelled_file(path)
    labels = map_labels(labels, mapping or {})
    if create_queues:
        create_missing_queues(labels, agent)
    return train_from_examples(texts, labels, source="file", fit_all=fit_all, force=force, agent=agent,
                               features=features)


def train_from_conversations(*, force: bool = False, agent: Agent | None = None,
                             source: str = "conversations", fit_all: bool = False,
                             features: str | None = None) -> dict:
    """Train a version from handled conversations and corrections, gate it, and mark the corrections used.

    With features None, the active version's feature set is kept (the default set when none is active),
    so a retrain never silently drops the embeddings an admin chose.
    """
    features = features or active_features()
    check_features(features)
    texts, labels, unused = conversation_examples()
    return train_from_examples(texts, labels, source=source, force=force, agent=agent, corrections=unused,
                               fit_all=fit_all, features=features)


def retrain(force: bool = False) -> dict:
    """Retrain from conversations and corrections (the retrain job) with the active version's features."""
    return train_from_conversations(force=force, source="retrain")


def check_features(features: str) -> None:
    """Refuse, as a 400 naming what to install, a feature set this machine cannot train.

    Raises:
        ValidationError: unknown, or its optional packages are not installed (code features_unavailable).
    """
    try:
        require(features)
    except ModelError as exc:
        raise ValidationError(f"features: {exc}", code="features_unavailable") from exc


def version_features(row: ModelVersion) -> str:
    """Return the feature set a version was trained with (versions from before the choice: the default)."""
    return (row.metrics or {}).get("features") or DEFAULT_FEATURES


def active_features() -> str:
    """Return the active version's feature set, or the default when no version is active."""
    active = db.session.scalar(sa.select(ModelVersion).where(ModelVersion.active.is_(True)))
    return version_features(active) if active is not None else DEFAULT_FEATURES


def train_from_examples(texts: Sequence[str], labels: Sequence[str], *, source: str, force: bool = False,
                        agent: Agent | None = None, corrections: Sequence[int] = (), fit_all: bool = False,
                        features: str = DEFAULT_FEATURES) -> dict:
    """Train, save and record one version from model inputs and queue slugs, promoting it if it passes the gate.

    The gate measures a model trained without the held-out rows. With fit_all, the
    version then routes with a model trained on every row (nothing of an admin's
    history is left unused), and the gate's model is kept beside it as its "gate
    twin": later gates compare candidates with the twin, which never saw a held-out
    row, so a version trained on everything cannot win by having memorised them.

    Args:
        texts: model inputs, composed by routing.classifier.model_text().
        labels: the queue slug of each.
        source: where the rows came from (file, demo, conversations, retrain).
        force: make it active even if it scores worse than the active version.
        agent: who asked, for the audit log (None for the system).
        corrections: ids of the corrections among the rows, marked as used by this run.
        fit_all: save a model trained on every row (measured by its gate twin).
        features: the feature set; the same data with other features trains another version.

    Returns:
        {"version", "active", "skipped", "decision", "metrics", "training_size"}; skipped means the
        data equals an existing version's, which is reported instead.
    """
    from routing.artifacts import save_model  # lazy: scikit-learn, which the web process never loads
    from routing.classifier import fingerprint, train

    check_labels(labels)
    check_features(features)
    data_fp = fingerprint(texts, labels)
    same = db.session.scalars(sa.select(ModelVersion).order_by(ModelVersion.id.desc())).all()
    # The same rows with other features train another model.
    same = next((row for row in same if (row.metrics or {}).get("data_fingerprint") == data_fp
                 and version_features(row) == features), None)
    if same is not None:
        # Identical data trains an identical model: say so instead of storing a twin.
        decision = f"no new training data since version {same.version}" + ("" if same.active else " (not active)")
        if force and not same.active:
            _activate(same, agent, "model.promote", f"Promotion forced on identical data{_by(agent)}.")
        _mark_used(corrections, same.version)
        db.session.commit()
        return _summary(same, skipped=True, decision=decision)

    train_texts, train_labels, held_texts, held_labels = split_held_out(texts, labels)
    try:
        model = train(train_texts, train_labels, holdout=0, seed=SEED, features=features)
    except ModelError as exc:
        raise ValidationError(f"cannot train: {exc}") from exc
    model.version = f"{datetime.fromisoformat(model.trained_at):%Y%m%dT%H%M%SZ}-{data_fp[:8]}"
    promote, reason = _gate(model, held_texts, held_labels, force)
    metrics = {**model.metrics, "data_fingerprint": data_fp, "features": features}
    if fit_all and held_texts:
        twin = model
        twin.version = f"{model.version}{GATE_TWIN}"
        metrics["gate_artifact"] = save_model(twin, model_dir(), artifact_key()).name
        model = train(texts, labels, holdout=0, seed=SEED, features=features)
        model.version = twin.version.removesuffix(GATE_TWIN)
    model.metrics = metrics
    path = save_model(model, model_dir(), artifact_key())
    row = ModelVersion(
        version=model.version, artifact=path.name, active=False, source=source, metrics=model.metrics,
        labels=list(model.labels), training_size=model.training_size, library_versions=model.library_versions,
        decision=f"{'Promoted' if promote else 'Not promoted'}: {reason}.", trained_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    if promote:
        _activate(row, agent, "model.promote", "")
    _mark_used(corrections, row.version)
    db.session.commit()
    return _summary(row, skipped=False, decision=row.decision)


def _gate(model: QueueModel, texts: list[str], labels: list[str], force: bool) -> tuple[bool, str]:
    """Measure the candidate, and the active model on the same rows; return (promote, reason)."""
    from routing.classifier import evaluate, should_promote  # lazy: scikit-learn, which the web process never loads

    active = db.session.scalar(sa.select(ModelVersion).where(ModelVersion.active.is_(True)))
    if not texts:
        return force or active is None, "no rows could be held out to measure it on (too little data)"
    model.metrics = evaluate(model, texts, labels)
    if active is None:
        return should_promote(model.metrics, None, force=force)
    try:
        active_metrics = evaluate(load_artifact(gate_artifact(active)), texts, labels)
    except ModelError as exc:
        return force, f"the active version {active.version} cannot be loaded to compare with ({exc})"
    promote, reason = should_promote(model.metrics, active_metrics, force=force)
    return promote, f"{reason} (active version {active.version})"


def _summary(row: ModelVersion, *, skipped: bool, decision: str) -> dict:
    return {"version": row.version, "active": row.active, "skipped": skipped, "decision": decision,
            "metrics": row.metrics, "training_size": row.training_size}


def _mark_used(correction_ids: Sequence[int], version: str) -> None:
    if correction_ids:
        db.session.execute(sa.update(Correction).where(Correction.id.in_(list(correction_ids)))
                           .values(used_in_version=version))


# --- versions ------------------------------------------------------------------------------------


def list_versions() -> list[ModelVersion]:
    """Return every trained version, newest first."""
    return list(db.session.scalars(sa.select(ModelVersion).order_by(ModelVersion.id.desc())))


def get_version(version: str) -> ModelVersion:
    """Return one version by name, or raise NotFound."""
    row = db.session.scalar(sa.select(ModelVersion).where(ModelVersion.version == version))
    if row is None:
        raise NotFound(f"no model version {version!r}")
    return row


def promote(version: str, *, force: bool = False, agent: Agent | None = None) -> ModelVersion:
    """Make a version active: forced, or if it scores at least as well as the active one on held-out conversations.

    Raises:
        NotFound: no such version.
        ModelUnusable: its artifact fails to load (say, it was altered).
        SwitchboardError: the gate refused it (code "not_promoted").
    """
    row = get_version(version)
    load_version(row)
    if row.active:
        return row
    if not force:
        try:
            model = load_artifact(gate_artifact(row))
        except ModelError as exc:
            raise ModelUnusable(f"version {row.version}'s gate twin cannot be loaded: {exc}") from exc
        texts, labels, _ = conversation_examples()
        _, _, held_texts, held_labels = split_held_out(texts, labels)
        ok, reason = _gate(model, held_texts, held_labels, force=False)
        if not ok:
            raise SwitchboardError(f"not promoted: {reason}; force it to promote anyway",
                                   code="not_promoted", status=409)
    _activate(row, agent, "model.promote", f"Promoted{' (forced)' if force else ''}{_by(agent)}.")
    db.session.commit()
    return row


def rollback(agent: Agent | None = None) -> ModelVersion:
    """Make the previously active version active again; returns it.

    Raises:
        SwitchboardError: no earlier version was ever active (code "nothing_to_roll_back").
        ModelUnusable: its artifact fails to load.
    """
    previous = db.session.scalar(
        sa.select(ModelVersion).where(ModelVersion.active.is_(False), ModelVersion.promoted_at.is_not(None))
        .order_by(ModelVersion.promoted_at.desc(), ModelVersion.id.desc()).limit(1)
    )
    if previous is None:
        raise SwitchboardError("no earlier version was ever active", code="nothing_to_roll_back", status=409)
    load_version(previous)
    _activate(previous, agent, "model.rollback", f"Reactivated by a rollback{_by(agent)}.")
    db.session.commit()
    return previous


def _by(agent: Agent | None) -> str:
    return f" by {agent.email}" if agent else ""


def _activate(row: ModelVersion, agent: Agent | None, action: str, note: str) -> None:
    """Make row the one active version in the current transaction, audited."""
    if db.session.get_bind().dialect.name == "postgresql":
        # Serialise activations so two concurrent ones cannot each leave their own version active.
        db.session.execute(sa.text("LOCK TABLE model_versions IN SHARE ROW EXCLUSIVE MODE"))
    before = db.session.scalar(sa.select(ModelVersion.version).where(ModelVersion.active.is_(True)))
    db.session.execute(
        sa.update(ModelVersion).where(sa.or_(ModelVersion.active.is_(True), ModelVersion.id == row.id))
        .values(active=ModelVersion.id == row.id)
    )
    row.active, row.promoted_at = True, utcnow()
    if note:
        row.decision = f"{row.decision} {note}".strip()
    audit.record(agent, action, "model_version", row.id, {"active": before}, {"active": row.version})
    # This process sees the change at once; others within MODEL_RELOAD_SECONDS.
    forget_loaded()



def evaluate_version(version: str | None = None, path: str | Path | None = None) -> dict:
    """Measure a version (the active one by default) on a labelled file, or else on the held-out conversations.

    Returns:
        {"version", "data" (what it was measured on), "metrics" (routing.classifier.evaluate output)}.
    """
    row = get_version(version) if version else db.session.scalar(
        sa.select(ModelVersion).where(ModelVersion.active.is_(True)))
    if row is None:
        raise NotFound("no version is active: name one to evaluate")
    model = load_version(row)
    if path is not None:
        texts, labels = read_labelled_file(path)
        data = Path(path).name
    else:
        texts, labels, _ = conversation_examples()
        _, _, texts, labels = split_held_out(texts, labels)
        data = "held-out conversations"
    if not texts:
        raise ValidationError("no held-out labelled conversations to measure on yet: pass a file")
    from routing.classifier import evaluate  # lazy: scikit-learn, which the web process never loads

    return {"version": row.version, "data": data, "metrics": evaluate(model, texts, labels)}
