"""The classifier lifecycle: load the active version, train, gate, promote, roll back, retrain.

Every training run splits its rows by a hash of each text: a fixed share of
texts is held out from every version ever trained, so a candidate and the
active model are compared on rows neither has seen (a random split would let
the active model be judged on rows it trained on, and it would rarely lose).
Training on data identical to an existing version's (same rows, order and
seed, compared by the fingerprint stored in its metrics) trains nothing: the
run reports that version instead, which makes retraining idempotent.
"""

from workspace.services.triage.classifier.data import (
    conversation_examples,
    held_out,
    read_labelled_file,
    read_mapping,
    split_held_out,
)
from workspace.services.triage.classifier.feedback import (
    record_retrain_request,
    routing_accuracy,
)
from workspace.services.triage.classifier.loading import (
    ModelUnusable,
    artifact_key,
    current_model,
    load_artifact,
    model_dir,
)
from workspace.services.triage.classifier.uploads import accept_upload, train_upload
from workspace.services.triage.classifier.versions import (
    check_features,
    evaluate_version,
    get_version,
    list_versions,
    promote,
    retrain,
    rollback,
    train_from_conversations,
    train_from_examples,
    train_from_file,
    version_features,
)

__all__ = [
    "ModelUnusable",
    "accept_upload",
    "artifact_key",
    "check_features",
    "conversation_examples",
    "current_model",
    "evaluate_version",
    "get_version",
    "held_out",
    "list_versions",
    "load_artifact",
    "model_dir",
    "promote",
    "read_labelled_file",
    "read_mapping",
    "record_retrain_request",
    "retrain",
    "rollback",
    "routing_accuracy",
    "split_held_out",
    "train_from_conversations",
    "train_from_examples",
    "train_from_file",
    "train_upload",
    "version_features",
]
