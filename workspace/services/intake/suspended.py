"""Suspended mail: what a flooding sender sent, or received mail that could not be read, held out of the queues
for an admin to release or drop."""

import sqlalchemy as sa

from workspace.errors import NotFound
from workspace.extensions import db
from workspace.models import Agent, Channel, SuspendedEmail
from workspace.services import audit
from workspace.services.intake.mail import MailOutcome, receive_mail

LISTED = 200


def list_suspended() -> list[SuspendedEmail]:
    """The newest suspended messages, at most LISTED."""
    return list(db.session.scalars(sa.select(SuspendedEmail).order_by(SuspendedEmail.id.desc()).limit(LISTED)))


def _held(suspended_id: int) -> SuspendedEmail:
    held = db.session.get(SuspendedEmail, suspended_id)
    if held is None:
        raise NotFound("no such suspended message")
    return held


def release(suspended_id: int, agent: Agent) -> MailOutcome:
    """Store a suspended message as if it had just arrived (without the flood check), then forget it."""
    held = _held(suspended_id)
    channel = db.session.get(Channel, held.channel_id)
    raw, key = held.raw, held.message_key
    outcome = receive_mail(channel, raw, flood_check=False)
    db.session.execute(sa.delete(SuspendedEmail).where(SuspendedEmail.id == suspended_id))
    audit.record(agent, "suspended_mail.release", "suspended_mail", suspended_id, after={"message": key})
    db.session.commit()
    return outcome


def drop(suspended_id: int, agent: Agent) -> None:
    """Delete a suspended message for good."""
    held = _held(suspended_id)
    audit.record(agent, "suspended_mail.drop", "suspended_mail", suspended_id,
                 before={"message": held.message_key, "sender": held.sender})
    db.session.delete(held)
    db.session.commit()
