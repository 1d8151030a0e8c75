"""Senders of replies, one module per way out: Discourse's REST API, and signed JSON callbacks.

A sender is `send(message, *, key, retrying) -> url | None`: it posts one reply
and returns where it now lives (if the platform says). `key` is the reply's
delivery key, the same on every attempt; `retrying` says an earlier attempt
may have reached the platform, so the sender must make sure a resend cannot
post twice. It raises NotConfigured or Refused when retrying cannot help, and
anything else (timeouts, 5xx, 429) for RQ to retry with backoff.
"""

import requests
import sqlalchemy as sa
from flask import current_app

from workspace.extensions import db
from workspace.models import Message


class NotConfigured(Exception):
    """The channel has nowhere to send replies (no callback URL, no API key): the reply stays here."""


class Refused(Exception):
    """The platform refused the reply for good (4xx): sending it again cannot succeed."""


# Answers worth retrying: the receiver may accept the same request later (409: a
# receiver still busy with the same Idempotency-Key, as Stripe answers).
RETRYABLE = frozenset({408, 409, 425, 429})


def check(response: requests.Response, what: str) -> None:
    """Raise Refused for a final 4xx, an HTTPError (retried) for 5xx and 408/409/425/429; return on 2xx."""
    if 200 <= response.status_code < 300:
        return
    detail = f"{what} answered {response.status_code}: {response.text[:300]}"
    if 400 <= response.status_code < 500 and response.status_code not in RETRYABLE:
        raise Refused(detail)
    raise requests.HTTPError(detail, response=response)


def timeout() -> tuple[float, float]:
    """Seconds to connect and to wait for an answer: well inside the job's own timeout."""
    return (5.0, current_app.config["DELIVERY_TIMEOUT_SECONDS"])


def parent_post(message: Message) -> Message | None:
    """The customer's latest post before this reply: what the reply answers (one row, not the whole thread)."""
    return db.session.scalars(sa.select(Message).where(
        Message.conversation_id == message.conversation_id, Message.direction == "inbound", Message.id < message.id,
    ).order_by(Message.id.desc()).limit(1)).first()
