"""Helpers of the escalation tests: the stub's tickets, a conversation's escalation, a worker with its scheduler."""


import requests
import sqlalchemy as sa

from tests.factories import TICKETING_EMAIL, TICKETING_TOKEN
from workspace.extensions import db
from workspace.infra.broker import job_queue, redis_client
from workspace.jobs.worker import AppWorker
from workspace.models import Escalation

AUTH = (f"{TICKETING_EMAIL}/token", TICKETING_TOKEN)


def stub_tickets(base: str, external_id: str | None = None) -> list[dict]:
    query = {"external_id": external_id} if external_id else {}
    return requests.get(f"{base}/api/v2/tickets.json", params=query, auth=AUTH, timeout=5).json()["tickets"]



def escalation_of(app, conversation: int) -> Escalation | None:
    with app.app_context():
        escalation = db.session.scalar(sa.select(Escalation).where(Escalation.conversation_id == conversation))
        db.session.expunge_all()
        return escalation


def work_with_scheduler(app) -> None:
    """A real worker in burst mode that also starts retries whose backoff has passed."""
    with app.app_context():
        AppWorker([job_queue()], connection=redis_client()).work(burst=True, with_scheduler=True)
        db.session.remove()

