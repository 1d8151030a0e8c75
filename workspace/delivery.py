"""Outbound delivery of replies: one job per reply, one sender per channel kind.

Senders for each platform (Discourse, X, Khoros, signed callbacks) plug into
SENDERS; a channel kind without one records the reply as not delivered, with
the reason, rather than pretending it was sent.
"""

from collections.abc import Callable

from .broker import redis_client
from .extensions import db
from .models import Message, utcnow

# How long one job may hold a reply while sending it (longer than any sender's timeout).
SENDING_LOCK_SECONDS = 120

# kind -> send(message) raising on failure; filled in by the channel adapters.
SENDERS: dict[str, Callable[[Message], None]] = {}


def deliver_reply(message_id: int) -> str:
    """Send one reply through its channel's sender (an RQ job; exceptions make RQ retry).

    Returns:
        The message's delivery status afterwards.
    """
    message = db.session.get(Message, message_id)
    if message is None or message.direction != "outbound":
        return "missing"
    if message.delivery_status == "sent":
        return "sent"  # a retried job never sends twice
    # Two jobs can carry one reply (a bulk batch's, and the sweeper's for a reply still queued): only
    # the job holding this lock sends it, after reading its status again.
    sending = redis_client().lock(f"sending:{message_id}", timeout=SENDING_LOCK_SECONDS)
    if not sending.acquire(blocking=False):
        return "busy"
    try:
        db.session.refresh(message)
        if message.delivery_status == "sent":
            return "sent"
        return _send(message)
    finally:
        sending.release()


def _send(message: Message) -> str:
    """Hand one reply to its channel's sender and record the outcome."""
    sender = SENDERS.get(message.conversation.channel.kind)
    message.delivery_attempts += 1
    if sender is None:
        message.delivery_status = "skipped"
        message.delivery_error = f"no outbound delivery for {message.conversation.channel.kind} channels yet"
        db.session.commit()
        return message.delivery_status
    try:
        sender(message)
    except Exception as error:
        message.delivery_status = "failed"
        message.delivery_error = f"{type(error).__name__}: {error}"[:1000]
        db.session.commit()
        raise
    message.delivery_status, message.delivery_error, message.delivered_at = "sent", None, utcnow()
    db.session.commit()
    return "sent"


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
