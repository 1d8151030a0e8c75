"""Recording events for their subscribers, and delivering one: signed, retried with backoff, logged.

Each POST carries the JSON body `{"id", "event", "created_at", "data"}` and:

    X-Switchboard-Event: conversation.updated
    X-Switchboard-Delivery: 42            (the same on every attempt: receivers can drop repeats)
    X-Switchboard-Timestamp: 1767000000   (seconds; receivers should refuse old ones)
    X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the subscription's secret>

A 2xx answer delivers it. Anything else (or no answer) is a failed attempt: the
job raises so RQ retries it on its backoff, and after SUBSCRIPTION_DISABLE_AFTER
failures in a row the subscription is disabled (an admin re-enables it).
"""

import hashlib
import hmac
import json
import time

import requests
import sqlalchemy as sa
from flask import current_app

from workspace.extensions import db
from workspace.live import signals
from workspace.live.changes import announce
from workspace.models import EventDelivery, Subscription, utcnow
from workspace.serializers import timestamp
from workspace.services.subscriptions.targets import Refused, check_target

# Attempts a delivery gets (the first and RQ's retries; see jobs.enqueue).
MAX_ATTEMPTS = 6
# Seconds to connect and to wait for an answer.
TIMEOUT = (5.0, 10.0)


class DeliveryFailed(Exception):
    """An attempt failed and will be retried."""


def signature(secret: str, stamp: str, body: bytes) -> str:
    """The X-Switchboard-Signature value of a body sent at `stamp`."""
    return "sha256=" + hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def record(event: str, items: list[dict], *, subscription_id: int | None = None) -> list[int]:
    """Store one delivery per item for each enabled subscription to `event` (or for one subscription), commit,
    and ask for their jobs; returns the delivery ids."""
    query = sa.select(Subscription).where(Subscription.enabled.is_(True))
    if subscription_id is not None:
        query = query.where(Subscription.id == subscription_id)
    subscribers = [s for s in db.session.scalars(query) if event in s.events or subscription_id is not None]
    deliveries = [EventDelivery(subscription_id=s.id, event=event, payload=item) for s in subscribers
                  for item in items]
    if not deliveries:
        return []
    db.session.add_all(deliveries)
    db.session.commit()
    ids = [delivery.id for delivery in deliveries]
    announce(signals.events_recorded, *ids)
    return ids


def body_of(delivery: EventDelivery) -> bytes:
    """The bytes sent on every attempt of a delivery."""
    return json.dumps({"id": delivery.id, "event": delivery.event, "created_at": timestamp(delivery.created_at),
                       "data": delivery.payload}, separators=(",", ":"), sort_keys=True).encode()


def deliver(delivery_id: int) -> str:
    """Make one attempt at a pending delivery; returns its state (raises DeliveryFailed to be retried)."""
    delivery = db.session.get(EventDelivery, delivery_id)
    if delivery is None or delivery.state != "pending":
        return delivery.state if delivery else "gone"
    subscription = delivery.subscription
    if not subscription.enabled:
        delivery.state, delivery.error = "failed", "the subscription is disabled"
        db.session.commit()
        return delivery.state
    body, stamp = body_of(delivery), str(int(time.time()))
    delivery.attempts += 1
    try:
        check_target(subscription.url)
        response = requests.post(subscription.url, data=body, timeout=TIMEOUT, allow_redirects=False, headers={
            "Content-Type": "application/json", "User-Agent": "Switchboard", "X-Switchboard-Event": delivery.event,
            "X-Switchboard-Delivery": str(delivery.id), "X-Switchboard-Timestamp": stamp,
            "X-Switchboard-Signature": signature(subscription.secret, stamp, body)})
    except (requests.RequestException, Refused) as error:
        return _failed(delivery, None, f"{type(error).__name__}: {error}"[:500])
    if 200 <= response.status_code < 300:
        delivery.state, delivery.delivered_at, delivery.response_status, delivery.error = (
            "delivered", utcnow(), response.status_code, None)
        subscription.consecutive_failures = 0
        db.session.commit()
        return delivery.state
    return _failed(delivery, response.status_code, f"answered {response.status_code}: {response.text[:300]}")


def _failed(delivery: EventDelivery, status: int | None, error: str) -> str:
    subscription = delivery.subscription
    delivery.response_status, delivery.error = status, error
    subscription.consecutive_failures += 1
    if subscription.consecutive_failures >= current_app.config["SUBSCRIPTION_DISABLE_AFTER"]:
        subscription.enabled = False
        subscription.disabled_reason = f"disabled after {subscription.consecutive_failures} failed attempts: {error}"
    if not subscription.enabled or delivery.attempts >= MAX_ATTEMPTS:
        delivery.state = "failed"
        db.session.commit()
        return delivery.state
    db.session.commit()
    raise DeliveryFailed(error)
