"""The classifier's versions, promotion gate, retraining and routing accuracy."""

from flask import g, jsonify

from routing.features import DEFAULT_FEATURES, FEATURES, available
from workspace.errors import ValidationError
from workspace.jobs.enqueue import enqueue, enqueue_retrain
from workspace.jobs.tasks import background
from workspace.models import ModelVersion
from workspace.services.triage import classifier
from workspace.web.api import bp
from workspace.web.api.openapi import (
    ERROR,
    NULLABLE_TIME,
    PATHS,
    SCHEMAS,
    TIME,
    json_body,
    ref,
    text,
    whole_number_query,
)
from workspace.web.auth import role_required
from workspace.web.validation import json_object, whole_number

MAX_ACCURACY_DAYS = 365


def serialize_model_version(row: ModelVersion) -> dict:
    """Describe a trained version: its metrics, labels, provenance and whether it is active."""
    return {
        "version": row.version, "active": row.active, "source": row.source, "metrics": row.metrics or {},
        "labels": row.labels, "training_size": row.training_size, "library_versions": row.library_versions,
        "decision": row.decision, "trained_at": row.trained_at.isoformat(),
        "promoted_at": row.promoted_at.isoformat() if row.promoted_at else None,
        "features": classifier.version_features(row),
    }


def _force() -> bool:
    """Return the optional `force` flag of a JSON body."""
    body = json_object(optional=True)
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise ValidationError("force: must be true or false", code="invalid_field")
    return force


@bp.post("/routing/retrain")
@role_required("admin")
def retrain_classifier():
    """Enqueue a retrain from conversations and corrections; the new version must pass the gate unless forced."""
    force = _force()
    return jsonify(job_id=classifier.record_retrain_request(g.agent, enqueue_retrain(force), force), force=force), 202


@bp.post("/routing/train")
@role_required("admin")
def train_classifier():
    """Accept a labelled history file (checked now) and enqueue its training through the promotion gate."""
    body = json_object()
    mapping, create_queues = body.get("mapping") or {}, body.get("create_queues", False)
    features = body.get("features", DEFAULT_FEATURES)
    accepted = classifier.accept_upload(body["file_name"], body["content"], mapping=mapping,
                                        create_queues=create_queues, features=features)
    job = enqueue(background.train_upload, accepted["upload"], mapping, create_queues, body.get("all", False),
                  body.get("force", False), g.agent.id, features)
    return jsonify(job_id=job.id, features=features, **accepted), 202


@bp.get("/routing/models")
@role_required("supervisor")
def list_model_versions():
    """List trained versions, newest first, with their metrics and which one is active."""
    rows = classifier.list_versions()
    active = next((row.version for row in rows if row.active), None)
    return jsonify(data=[serialize_model_version(row) for row in rows], active=active,
                   features={name: {"description": text, "available": available(name)}
                             for name, text in FEATURES.items()})


@bp.post("/routing/models/<version>/promote")
@role_required("admin")
def promote_model_version(version: str):
    """Make a version active if it scores at least as well as the active one (or when forced)."""
    return jsonify(serialize_model_version(classifier.promote(version, force=_force(), agent=g.agent)))


@bp.post("/routing/rollback")
@role_required("admin")
def rollback_model_version():
    """Make the previously active version active again."""
    return jsonify(serialize_model_version(classifier.rollback(g.agent)))


@bp.get("/routing/accuracy")
@role_required("supervisor")
def routing_accuracy():
    """Report how often the model's prediction was the queue a conversation ended in."""
    return jsonify(classifier.routing_accuracy(whole_number("days", 7, low=1, high=MAX_ACCURACY_DAYS)))


RATIO = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
FORCE_BODY = {"required": False, "content": {"application/json": {"schema": {
    "type": "object", "properties": {"force": {"type": "boolean", "default": False}}}}}}
ADMIN_ERRORS = {"400": ERROR, "401": ERROR, "403": ERROR}

SCHEMAS.update({
    "ModelVersion": {
        "type": "object",
        "required": ["version", "active", "source", "metrics", "labels", "training_size", "library_versions",
                     "decision", "trained_at", "promoted_at", "features"],
        "properties": {
            "version": {"type": "string"}, "active": {"type": "boolean"},
            "source": {"type": "string", "description": "file, demo, conversations or retrain"},
            "metrics": {"type": "object", "description": "Held-out accuracy, macro_f1, per_class, "
                        "never_predicted, worst_confusions, coverage, ece and reliability (calibration), and "
                        "the data_fingerprint of the training data."},
            "labels": {"type": "array", "items": {"type": "string"}}, "training_size": {"type": "integer"},
            "library_versions": {"type": "object", "additionalProperties": {"type": "string"}},
            "decision": {"type": "string", "description": "Why it was, or was not, made active."},
            "trained_at": TIME, "promoted_at": NULLABLE_TIME,
            "features": {"type": "string", "enum": list(FEATURES),
                         "description": "The features it was trained with, which it predicts with too."},
        },
    },
    "QueueAccuracy": {
        "type": "object", "required": ["conversations", "predicted", "correct", "accuracy"],
        "properties": {"conversations": {"type": "integer", "description": "Conversations that ended here."},
                       "predicted": {"type": "integer", "description": "Conversations the model predicted here."},
                       "correct": {"type": "integer"}, "accuracy": RATIO},
    },
    "RoutingAccuracy": {
        "type": "object",
        "required": ["days", "since", "total", "correct", "accuracy", "corrected", "in_triage", "queues"],
        "properties": {
            "days": {"type": "integer"}, "since": TIME,
            "total": {"type": "integer", "description": "Routed conversations with a prediction, outside triage."},
            "correct": {"type": "integer"}, "accuracy": RATIO,
            "corrected": {"type": "integer", "description": "Of total, how many an agent moved to another queue."},
            "in_triage": {"type": "integer", "description": "Still in triage: no human verdict yet, not counted."},
            "queues": {"type": "object", "additionalProperties": ref("QueueAccuracy")},
        },
    },
})

MAX_UPLOAD_CHARS = 1_000_000  # within the app's request size limit (MAX_CONTENT_LENGTH); larger files: the CLI
TRAIN_BODY = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["file_name", "content"], "additionalProperties": False, "properties": {
        "file_name": {"type": "string", "minLength": 5, "maxLength": 200,
                      "pattern": r"\.([cC][sS][vV]|[jJ][sS][oO][nN][lL])$",
                      "description": "The file's name: .csv (header text,label; optional subject, channel) or "
                                     ".jsonl (one object a line with the same keys)."},
        "content": text(MAX_UPLOAD_CHARS),
        "mapping": {"type": "object", "maxProperties": 500, "description": "label -> queue slug",
                    "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 64}},
        "create_queues": {"type": "boolean", "default": False,
                          "description": "Create the queues the (mapped) labels name that do not exist yet."},
        "all": {"type": "boolean", "default": False,
                "description": "After the gate, route with a model trained on every row (the gate's is kept)."},
        "force": {"type": "boolean", "default": False},
        "features": {"type": "string", "enum": list(FEATURES), "default": DEFAULT_FEATURES,
                     "description": "tfidf (word and character TF-IDF) or embeddings (adds sentence embeddings; "
                                    "needs the optional packages, else 400 features_unavailable)."},
    }}}}}

PATHS.update({
    "/api/v1/routing/train": {"post": {
        "operationId": "train_classifier",
        "summary": "Upload a labelled history (admin): checked at once, trained by a job through the promotion gate.",
        "requestBody": TRAIN_BODY,
        "responses": {"202": json_body({"type": "object", "required": ["job_id", "upload", "rows", "labels",
                                                                        "new_queues", "features"], "properties": {
            "job_id": {"type": "string"}, "upload": {"type": "string"}, "rows": {"type": "integer"},
            "features": {"type": "string", "enum": list(FEATURES)},
            "labels": {"type": "object", "additionalProperties": {"type": "integer"},
                       "description": "Rows per queue, after the mapping."},
            "new_queues": {"type": "array", "items": {"type": "string"}}}}, "Accepted; training is enqueued."),
            **ADMIN_ERRORS, "400": json_body(ref("Error"), "A body the document refuses, or (invalid_training_file) "
                                                          "a file whose rows or labels cannot train: the message "
                                                          "names the row or label; (features_unavailable) features "
                                                          "whose optional packages are not installed.")},
    }},
    "/api/v1/routing/retrain": {"post": {
        "operationId": "retrain_classifier",
        "summary": "Enqueue a retrain from conversations and corrections (admin); it must pass the gate unless forced.",
        "requestBody": FORCE_BODY,
        "responses": {"202": json_body({"type": "object", "required": ["job_id", "force"], "properties": {
            "job_id": {"type": "string"}, "force": {"type": "boolean"}}}, "Enqueued (or already waiting)."),
            **ADMIN_ERRORS},
    }},
    "/api/v1/routing/models": {"get": {
        "operationId": "list_model_versions", "summary": "Trained classifier versions, newest first (supervisor).",
        "responses": {"200": json_body({"type": "object", "required": ["data", "active", "features"], "properties": {
            "data": {"type": "array", "items": ref("ModelVersion")},
            "active": {"type": ["string", "null"]},
            "features": {"type": "object", "description": "The feature sets training offers, and whether "
                         "this installation can train each.", "additionalProperties": {
                             "type": "object", "required": ["description", "available"], "properties": {
                                 "description": {"type": "string"}, "available": {"type": "boolean"}}}}}},
            "The versions."), "401": ERROR, "403": ERROR},
    }},
    "/api/v1/routing/models/{version}/promote": {"post": {
        "operationId": "promote_model_version",
        "summary": "Make a version active if it scores at least as well as the active one on held-out "
                   "conversations, or when forced (admin).",
        "parameters": [{"name": "version", "in": "path", "required": True, "schema": {"type": "string"}}],
        "requestBody": FORCE_BODY,
        "responses": {"200": json_body(ref("ModelVersion"), "Now active."), **ADMIN_ERRORS, "404": ERROR,
                      "409": json_body(ref("Error"), "Refused by the gate (not_promoted) or its artifact "
                                                     "does not verify (model_unusable).")},
    }},
    "/api/v1/routing/rollback": {"post": {
        "operationId": "rollback_model_version", "summary": "Make the previously active version active again (admin).",
        "responses": {"200": json_body(ref("ModelVersion"), "Now active."), "401": ERROR, "403": ERROR,
                      "409": json_body(ref("Error"), "Nothing to roll back to, or its artifact does not verify.")},
    }},
    "/api/v1/routing/accuracy": {"get": {
        "operationId": "routing_accuracy",
        "summary": "Predicted vs final queue of conversations routed in the last N days (supervisor).",
        "parameters": [whole_number_query("days", low=1, high=MAX_ACCURACY_DAYS)],
        "responses": {"200": json_body(ref("RoutingAccuracy"), "The figures."), **ADMIN_ERRORS},
    }},
})
