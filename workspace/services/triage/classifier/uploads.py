"""Training files uploaded from the admin page: checked while the admin waits, trained by a background job.

The request checks everything a file can get wrong (format, empty cells, labels
that are neither queues nor mapped nor creatable) and answers at once; the file
is then kept in the model directory under its digest until the training job has
used it, so a retried job trains the very same rows.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

from routing.features import DEFAULT_FEATURES
from workspace.errors import ValidationError
from workspace.extensions import db
from workspace.models import Agent
from workspace.services.triage.classifier.data import check_labels, creatable_queues, map_labels, read_labelled_file
from workspace.services.triage.classifier.loading import model_dir
from workspace.services.triage.classifier.versions import check_features, train_from_file

SUFFIXES = (".csv", ".jsonl")
UPLOADS = "uploads"
SAFE_NAME = re.compile(r"[^\w.-]+")


def accept_upload(file_name: str, content: str, *, mapping: Mapping[str, str], create_queues: bool,
                  features: str = DEFAULT_FEATURES) -> dict:
    """Check an uploaded training file and keep it for the training job.

    Args:
        file_name: the name the admin's file had (its suffix tells CSV from JSONL).
        content: its text.
        mapping: label -> queue slug.
        create_queues: whether training may create the queues that the labels name.
        features: the feature set to train with; refused now if this machine cannot train it.

    Returns:
        {"upload": the kept file's name, "rows", "labels": {queue: rows}, "new_queues": [slugs]}.

    Raises:
        ValidationError: naming what is wrong (the suffix; features whose packages are missing, code
            features_unavailable; or, with code invalid_training_file, a row or a label); nothing is kept then.
    """
    check_features(features)
    suffix = Path(file_name).suffix.lower()
    if suffix not in SUFFIXES:
        raise ValidationError("file_name: a .csv or .jsonl file", code="invalid_field")
    data = content.encode("utf-8", "surrogatepass")
    directory = model_dir() / UPLOADS
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{hashlib.sha256(data).hexdigest()[:32]}{suffix}"
    # Checked under the admin's own file name, so an error names the file they chose.
    scratch = Path(tempfile.mkdtemp(dir=directory, prefix=".upload-"))
    tmp = scratch / (SAFE_NAME.sub("_", Path(file_name).stem)[:80] + suffix)
    try:
        tmp.write_bytes(data)
        _texts, labels = read_labelled_file(tmp)
        labels = map_labels(labels, mapping)
        new_queues = creatable_queues(labels) if create_queues else []
        if not create_queues:
            check_labels(labels)
        os.replace(tmp, path)
    except ValidationError as exc:
        # What the file holds, which its schema cannot check: one code, the message naming the row or label.
        raise ValidationError(f"content: {exc.message}", code="invalid_training_file") from exc
    finally:
        tmp.unlink(missing_ok=True)
        scratch.rmdir()
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return {"upload": path.name, "rows": len(labels), "labels": dict(sorted(counts.items())), "new_queues": new_queues}


def train_upload(upload: str, *, mapping: Mapping[str, str], create_queues: bool, fit_all: bool, force: bool,
                 agent_id: int | None, features: str = DEFAULT_FEATURES) -> dict:
    """Train from a kept upload through the promotion gate (the job's body), then delete the file.

    Returns:
        train_from_file()'s summary.
    """
    path = model_dir() / UPLOADS / Path(upload).name
    agent = db.session.get(Agent, agent_id) if agent_id is not None else None
    outcome = train_from_file(path, mapping=mapping, create_queues=create_queues, fit_all=fit_all, force=force,
                              agent=agent, features=features)
    path.unlink(missing_ok=True)
    return outcome
