"""Loading the active classifier: once per process, signed artifacts only, reloaded when the active version changes."""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from time import monotonic
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import current_app

from routing import ModelError
from workspace.errors import SwitchboardError
from workspace.extensions import db
from workspace.models import ModelVersion

if TYPE_CHECKING:  # scikit-learn loads only when a model does, so the web app starts light
    from routing.classifier import QueueModel  # lazy: scikit-learn, which the web process never loads

log = logging.getLogger(__name__)

# Key of this process's loaded-model state in app.extensions.
_STATE = "classifier_state"
# Derivation context: the artifact key is HMAC(SECRET_KEY, this), never the session key itself.
_KEY_CONTEXT = b"switchboard-model-artifacts"


class ModelUnusable(SwitchboardError):
    """A model artifact that cannot be loaded (tampered, missing, another library version)."""

    status = 409
    code = "model_unusable"


@dataclass
class _Loaded:
    """What this process has loaded, and when it last asked the database which version is active."""

    version: str | None = None
    model: QueueModel | None = None
    checked_at: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def artifact_key() -> bytes:
    """Return the key that signs and verifies model artifacts, derived from SECRET_KEY."""
    secret = current_app.config["SECRET_KEY"]
    if not secret:
        raise ModelError("SECRET_KEY is not set: model artifacts cannot be signed or verified")
    return hmac.new(str(secret).encode(), _KEY_CONTEXT, hashlib.sha256).digest()


def model_dir() -> Path:
    """Return the directory that holds the model artifacts."""
    return Path(current_app.config.get("MODEL_DIR") or Path(current_app.instance_path) / "models")


def current_model() -> QueueModel | None:
    """Return the active classifier, loaded once per process and reloaded when the active version changes.

    The database is asked which version is active at most every MODEL_RELOAD_SECONDS,
    so a promotion or rollback reaches running workers without a restart. An
    artifact that fails to load is logged and the previously loaded model kept,
    so a bad file never stops routing.

    Returns:
        The active QueueModel, or None when no version is active (an untrained start).
    """
    state: _Loaded = current_app.extensions.setdefault(_STATE, _Loaded())
    interval = current_app.config.get("MODEL_RELOAD_SECONDS", 10)
    now = monotonic()
    if state.checked_at is not None and now - state.checked_at < interval:
        return state.model
    with state.lock:
        if state.checked_at is not None and now - state.checked_at < interval:
            return state.model
        row = db.session.execute(
            sa.select(ModelVersion.version, ModelVersion.artifact).where(ModelVersion.active.is_(True))
        ).first()
        if row is None:
            state.version, state.model = None, None
        elif row.version != state.version:
            try:
                state.model, state.version = load_artifact(row.artifact), row.version
                log.info("classifier version %s loaded", row.version)
            except ModelError:
                log.exception("cannot load classifier version %s; keeping %s", row.version, state.version)
        state.checked_at = now
    return state.model


def load_artifact(artifact: str) -> QueueModel:
    """Load one of Switchboard's own artifacts from the model directory, verifying its signature."""
    from routing.artifacts import load_model  # lazy: scikit-learn, which the web process never loads

    return load_model(model_dir() / artifact, artifact_key())


def load_version(row: ModelVersion) -> QueueModel:
    """Load a version's artifact, or raise ModelUnusable saying why it cannot be."""
    try:
        return load_artifact(row.artifact)
    except ModelError as exc:
        raise ModelUnusable(f"version {row.version} cannot be loaded: {exc}") from exc


def forget_loaded() -> None:
    """Make this process ask which version is active on its next current_model() call."""
    state = current_app.extensions.get(_STATE)
    if state is not None:
        state.checked_at = None
