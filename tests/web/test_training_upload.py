"""Training from an uploaded history (POST /api/v1/routing/train): checked at once, trained by a real job."""

import sqlalchemy as sa

from tests.routing.test_embeddings import EXTRA
from tests.services.triage.test_classifier_service import isolated_models, labelled_rows  # noqa: F401
from workspace.extensions import db
from workspace.models import ModelVersion, Queue
from workspace.services.triage.classifier import versions


def csv_text(rows) -> str:
    """Rows as the text of a CSV file with a text,label header."""
    return "text,label\n" + "".join(f"{text},{label}\n" for text, label in rows)


def post(client, token, body):
    return client.post("/api/v1/routing/train", json=body, headers={"Authorization": f"Bearer {token}"})


def test_an_uploaded_history_trains_with_a_mapping_and_new_queues(app, client, token, channel, run_jobs):
    """Labels mapped or created as queues: 202 with the rows per queue, then a real worker trains the version."""
    rows = [(text, {"billing": "Billing issue", "tech": "tech"}[label]) for text, label in labelled_rows(160)]
    rows += [(f"parcel courier delivery tracking late {n}", "shipping") for n in range(10)]
    response = post(client, token, {"file_name": "history.CSV", "content": csv_text(rows),
                                         "mapping": {"Billing issue": "billing"}, "create_queues": True,
                                         "all": True})
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["rows"] == 170 and body["labels"] == {"billing": 80, "shipping": 10, "tech": 80}
    assert body["new_queues"] == ["shipping"]
    run_jobs()
    with app.app_context():
        version = db.session.scalar(sa.select(ModelVersion).where(ModelVersion.active.is_(True)))
        assert version.labels == ["billing", "shipping", "tech"] and version.metrics["gate_artifact"]
        assert db.session.scalar(sa.select(Queue.id).where(Queue.slug == "shipping"))


def test_a_bad_upload_is_refused_at_once_naming_the_problem(app, client, token, channel):
    """A label that is no queue, an empty cell, a NUL byte in the CSV or a wrong suffix: 400, nothing trained."""
    cases = [
        ({"file_name": "h.csv", "content": csv_text([("a b", "refunds"), ("c d", "billing")])}, "not queues"),
        ({"file_name": "h.csv", "content": "text,label\nhello,\n"}, "h.csv row 2: label is empty"),
        ({"file_name": "h.csv", "content": "text,label\nhel\x00lo,billing\n"}, "content"),
        ({"file_name": "h.txt", "content": "text,label\n"}, "file_name"),
        ({"file_name": "h.csv", "content": csv_text([("a", "Bad Label")]), "create_queues": True}, "'Bad Label'"),
    ]
    for body, message in cases:
        response = post(client, token, body)
        assert response.status_code == 400, body
        assert message in response.get_json()["error"]["message"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ModelVersion)) == 0


def test_features_the_installation_cannot_train_are_refused_at_once(app, client, token, channel, monkeypatch):
    """Embeddings without the optional packages: 400 features_unavailable naming what to install; the listing
    marks them unavailable; an unknown feature set is refused by the document."""
    monkeypatch.setattr("routing.features._EXTRA_MODULES", ("switchboard_no_such_package",))
    body = {"file_name": "h.csv", "content": csv_text(labelled_rows(40)), "features": "embeddings"}
    response = post(client, token, body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "features_unavailable" and "requirements-embeddings.txt" in error["message"]
    assert post(client, token, {**body, "features": "bert"}).status_code == 400
    listed = client.get("/api/v1/routing/models", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert listed["features"]["embeddings"]["available"] is False and listed["features"]["tfidf"]["available"]


def test_a_version_says_which_features_it_was_trained_with(app, client, token, channel, run_jobs):
    """The default is TF-IDF, echoed by the upload and shown on the version."""
    response = post(client, token, {"file_name": "h.csv", "content": csv_text(labelled_rows(160))})
    assert response.status_code == 202 and response.get_json()["features"] == "tfidf"
    run_jobs()
    listed = client.get("/api/v1/routing/models", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [version["features"] for version in listed["data"]] == ["tfidf"]


@EXTRA
def test_an_upload_trained_with_embeddings_keeps_them_for_retraining(app, client, token, channel, run_jobs):
    """features=embeddings trains such a version, and a retrain keeps the active version's features."""
    response = post(client, token, {"file_name": "h.csv", "content": csv_text(labelled_rows(160)),
                                    "features": "embeddings"})
    assert response.status_code == 202, response.get_json()
    run_jobs()
    with app.app_context():
        version = db.session.scalar(sa.select(ModelVersion).where(ModelVersion.active.is_(True)))
        assert version.metrics["features"] == "embeddings"
        assert versions.active_features() == "embeddings"
