"""Model artifacts: save a QueueModel with an HMAC, and load only what Switchboard signed.

Unpickling runs code, so a model file is trusted only if its HMAC-SHA256,
computed with Switchboard's secret key when it was saved, verifies. The check
runs on the raw bytes before anything is unpickled. Each version is two files:

- ``<version>.model``: the pickled QueueModel;
- ``<version>.json``: its metadata (version, labels, metrics, training size,
  library versions, trained_at) plus the format number and the HMAC, readable
  without loading the model (to list versions, show metrics, roll back).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pickle
import tempfile
from pathlib import Path

from routing.classifier import QueueModel, library_versions
from routing.errors import ModelError
from routing.features import DEFAULT_FEATURES, MISSING_EXTRA, available

FORMAT = 1  # bump when the artifact layout or QueueModel's fields change incompatibly
MODEL_SUFFIX = ".model"
META_SUFFIX = ".json"
# Versions whose mismatch makes unpickling unsafe or wrong (scikit-learn objects
# are only guaranteed to load in the version that pickled them).
_MUST_MATCH = ("scikit-learn", "numpy", "scipy")


def _signature(data: bytes, key: bytes) -> str:
    if not isinstance(key, bytes) or not key:
        raise ModelError("a non-empty secret key (bytes) is required to sign or verify models")
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    # Write then rename, so a crash never leaves a half-written file under the real name.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_model(model: QueueModel, directory: str | os.PathLike, key: bytes) -> Path:
    """Save a model and its signed metadata in a directory.

    Args:
        model: the trained model.
        directory: where versions live (created if missing).
        key: Switchboard's secret key for the HMAC.

    Returns:
        The path of the ``.model`` file (give it to load_model).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    data = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    meta = {**model.metadata(), "format": FORMAT, "hmac_sha256": _signature(data, key), "size_bytes": len(data)}
    path = directory / f"{model.version}{MODEL_SUFFIX}"
    _write_atomically(path, data)
    # The metadata goes last: a listed version always has its model file.
    _write_atomically(path.with_suffix(META_SUFFIX), json.dumps(meta, indent=2, sort_keys=True).encode())
    return path


def read_metadata(path: str | os.PathLike) -> dict:
    """Read a saved model's metadata without loading the model.

    Args:
        path: the ``.model`` file (or its ``.json`` sibling).

    Returns:
        The metadata dict (unverified: use it for display, never to decide trust).

    Raises:
        ModelError: if the metadata file is missing or not JSON.
    """
    meta_path = Path(path).with_suffix(META_SUFFIX)
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read model metadata {meta_path}: {exc}") from exc
    if not isinstance(meta, dict):
        raise ModelError(f"model metadata {meta_path} is not a JSON object")
    return meta


def load_model(path: str | os.PathLike, key: bytes) -> QueueModel:
    """Load a model that Switchboard saved, after verifying its HMAC.

    Args:
        path: the ``.model`` file returned by save_model.
        key: the secret key it was saved with.

    Returns:
        The QueueModel.

    Raises:
        ModelError: missing files, a signature that does not verify (tampered
            file or wrong key), another artifact format or library versions, or
            features whose optional packages are not installed here.
    """
    path = Path(path).with_suffix(MODEL_SUFFIX)
    meta = read_metadata(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read model {path}: {exc}") from exc
    expected = meta.get("hmac_sha256")
    if not isinstance(expected, str) or not hmac.compare_digest(_signature(data, key), expected):
        raise ModelError(f"model {path.name} failed its signature check: it was altered, or saved with another key")
    if meta.get("format") != FORMAT:
        raise ModelError(
            f"model {path.name} has artifact format {meta.get('format')!r}; this Switchboard reads {FORMAT}"
        )
    running = library_versions()
    saved = meta.get("library_versions") or {}
    stale = [
        f"{lib} {saved.get(lib)} (running {running[lib]})" for lib in _MUST_MATCH if saved.get(lib) != running[lib]
    ]
    if stale:
        raise ModelError(f"model {path.name} was trained with {', '.join(stale)}: retrain it")
    features = meta.get("features", DEFAULT_FEATURES)
    if not available(features):
        # Refused here, not at its first prediction: a process then keeps routing with the model it has.
        raise ModelError(f"model {path.name} uses {features} features: {MISSING_EXTRA}")
    model = pickle.loads(data)  # noqa: S301 - verified above as Switchboard's own artifact
    if not isinstance(model, QueueModel):
        raise ModelError(f"model {path.name} does not hold a QueueModel")
    return model
