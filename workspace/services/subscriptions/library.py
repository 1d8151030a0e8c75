"""Admins' subscriptions: create, change (re-enabling resets the failure count), delete, list, and the log."""

import secrets

import sqlalchemy as sa

from workspace.errors import NotFound, ValidationError
from workspace.extensions import db
from workspace.models import EVENTS, Agent, EventDelivery, Subscription, utcnow
from workspace.services import audit
from workspace.services.subscriptions.events import forget_wanted
from workspace.services.subscriptions.targets import clean_url

FIELDS = ("url", "events", "enabled", "rotate_secret")
# Deliveries listed per subscription, newest first.
LOG_SIZE = 100


def snapshot(subscription: Subscription) -> dict:
    """A subscription's fields as audited (never its secret)."""
    return {"url": subscription.url, "events": subscription.events, "enabled": subscription.enabled}


def _events(value) -> list[str]:
    if not isinstance(value, list) or not value or not all(event in EVENTS for event in value):
        raise ValidationError(f"events: a non-empty list of {', '.join(EVENTS)}", code="invalid_field")
    return sorted(set(value))


def get_subscription(subscription_id: int) -> Subscription:
    """Return one subscription or raise NotFound."""
    subscription = db.session.get(Subscription, subscription_id)
    if subscription is None:
        raise NotFound(f"no subscription {subscription_id}")
    return subscription


def list_subscriptions() -> list[Subscription]:
    """Every subscription, oldest first."""
    return list(db.session.scalars(sa.select(Subscription).order_by(Subscription.id)))


def save_subscription(subscription: Subscription | None, data, agent: Agent) -> Subscription:
    """Create (None) or change a subscription; a new one gets its signing secret, shown to admins."""
    if not isinstance(data, dict) or (subscription is None and not data):
        raise ValidationError(f"body: a JSON object with {', '.join(FIELDS)}", code="invalid_field")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ValidationError(f"{unknown[0]}: not a subscription field ({', '.join(FIELDS)})", code="invalid_field")
    creating = subscription is None
    before = None if creating else snapshot(subscription)
    if creating:
        subscription = Subscription(url=clean_url(data.get("url")), events=_events(data.get("events")),
                                    secret=secrets.token_hex(32), enabled=True)
        db.session.add(subscription)
    if "url" in data:
        subscription.url = clean_url(data["url"])
    if "events" in data:
        subscription.events = _events(data["events"])
    if "enabled" in data:
        if not isinstance(data["enabled"], bool):
            raise ValidationError("enabled: true or false", code="invalid_field")
        if data["enabled"] and not subscription.enabled:  # switched back on by hand: a fresh start
            subscription.consecutive_failures, subscription.disabled_reason = 0, None
        subscription.enabled = data["enabled"]
    if data.get("rotate_secret") is True:
        subscription.secret = secrets.token_hex(32)
    subscription.updated_at = utcnow()
    db.session.flush()
    audit.record(agent, "subscription.create" if creating else "subscription.update", "subscription",
                 subscription.id, before=before, after=snapshot(subscription))
    db.session.commit()
    forget_wanted()
    return subscription


def delete_subscription(subscription: Subscription, agent: Agent) -> None:
    """Delete a subscription and its delivery log."""
    audit.record(agent, "subscription.delete", "subscription", subscription.id, before=snapshot(subscription))
    db.session.execute(sa.delete(EventDelivery).where(EventDelivery.subscription_id == subscription.id))
    db.session.delete(subscription)
    db.session.commit()
    forget_wanted()


def delivery_log(subscription_id: int) -> list[EventDelivery]:
    """A subscription's latest deliveries, newest first."""
    return list(db.session.scalars(sa.select(EventDelivery).where(EventDelivery.subscription_id == subscription_id)
                                   .order_by(EventDelivery.id.desc()).limit(LOG_SIZE)))
