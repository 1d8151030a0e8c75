"""Outbound delivery of replies: one job per reply, one sender per channel kind (channels.registry).

A reply is never sent twice, even when its job is retried after a timeout or
runs again after its worker died. Each attempt first claims the reply and
commits that (status "sending", a delivery key chosen once, the attempt's start
time), and only then sends; so a later attempt knows whether an earlier one may
have reached the platform, and the sender makes the resend harmless (the same
Idempotency-Key for callbacks; a marker looked up in the topic for Discourse).
The claim is a conditional UPDATE, so two copies of the job cannot both send.

States shown on the message: queued → sending → sent; failed (with the reason,
retried with backoff unless the platform refused for good); skipped (the
channel has nowhere to send replies).
"""

import uuid
from datetime import timedelta

import sqlalchemy as sa
from rq import get_current_job

from workspace.channels import registry
from workspace.channels.outbound import NotConfigured, Refused
from workspace.extensions import db
from workspace.live.publish import publish
from workspace.live.rooms import conversation_room
from workspace.models import Message, utcnow
from workspace.serializers import serialize_conversation
from workspace.services.conversations.replies import DELIVERY_JOB_TIMEOUT

# An attempt "sending" for longer than this died with its worker; another may take over.
STALE_ATTEMPT = timedelta(seconds=2 * DELIVERY_JOB_TIMEOUT)
FINAL = ("sent", "skipped")


class AttemptInFlight(Exception):
    """Another attempt at this reply is running; RQ retries this one later."""


def deliver_reply(message_id: int) -> str:
    """Send one reply through its channel's sender (an RQ job; exceptions make RQ retry).

    Returns:
        The message's delivery status afterwards.
    """
    message = db.session.get(Message, message_id)
    if message is None or message.direction != "outbound":
        return "missing"
    if message.delivery_status in FINAL:
        return message.delivery_status  # a retried job never sends twice
    # An earlier attempt may have reached the platform without recording it.
    retrying = message.delivery_attempts > 0
    key = message.delivery_key or uuid.uuid4().hex
    if not _claim(message, key):
        db.session.rollback()
        status = db.session.get(Message, message_id).delivery_status
        if status in FINAL:
            return status
        raise AttemptInFlight(f"reply {message_id} is being sent by another attempt")
    db.session.refresh(message)
    sender = registry.SENDERS.get(message.conversation.channel.kind)
    try:
        if sender is None:
            raise NotConfigured(f"no outbound delivery for {message.conversation.channel.kind} channels yet")
        url = sender(message, key=key, retrying=retrying)
    except NotConfigured as reason:
        return _finish(message, "skipped", str(reason))
    except Refused as reason:
        return _finish(message, "failed", str(reason))
    except Exception as error:
        _finish(message, "failed", _retry_note(f"{type(error).__name__}: {error}"))
        raise
    if url:
        message.url = url
    return _finish(message, "sent", None)


def _claim(message: Message, key: str) -> bool:
    """Mark the reply as being sent by this attempt, committed before anything is sent; False if taken."""
    now = utcnow()
    table = Message.__table__
    claimed = db.session.execute(
        table.update().where(
            table.c.id == message.id,
            table.c.delivery_status.not_in(FINAL),
            sa.or_(table.c.delivery_status != "sending", table.c.delivery_attempted_at.is_(None),
                   table.c.delivery_attempted_at < now - STALE_ATTEMPT),
        ).values(delivery_status="sending", delivery_key=key, delivery_attempted_at=now,
                 delivery_attempts=table.c.delivery_attempts + 1),
    ).rowcount == 1
    db.session.commit()
    return claimed


def _finish(message: Message, status: str, error: str | None) -> str:
    """Record the attempt's outcome and show it to whoever has the conversation open."""
    message.delivery_status, message.delivery_error = status, error and error[:1000]
    if status == "sent":
        message.delivered_at = utcnow()
    db.session.commit()
    conversation = message.conversation
    publish("conversation.updated", {"conversations": [serialize_conversation(conversation)]},
            conversation_room(conversation.id))
    return status


def _retry_note(reason: str) -> str:
    """The reason, saying whether RQ will try again."""
    job = get_current_job()
    if job is not None and job.retries_left:
        return f"{reason} (will retry)"
    return reason


def deliver_replies(message_ids: list[int]) -> dict[str, int]:
    """Send many replies (a bulk action's batch) as one job; a retry sends only those not sent yet.

    Returns:
        How many ended in each delivery status.

    Raises:
        DeliveryFailed: when some failed, after trying all, so RQ retries the job.
    """
    outcomes: dict[str, int] = {}
    failed = []
    for message_id in message_ids:
        try:
            status = deliver_reply(message_id)
        except Exception:  # noqa: BLE001 - recorded on the message; the others still get their turn
            db.session.rollback()
            status = "failed"
            failed.append(message_id)
        outcomes[status] = outcomes.get(status, 0) + 1
    if failed:
        raise DeliveryFailed(f"{len(failed)} of {len(message_ids)} replies failed, e.g. message {failed[0]}")
    return outcomes


class DeliveryFailed(Exception):
    """Some replies of a batch could not be sent (each one's error is on its message)."""
