"""What becomes an outbound event: receivers of the services' signals, turning changes into deliveries.

They run after the commit that made the change, in whichever process made it,
and cost one look at a cached set of wanted events when nobody subscribes.
Best effort: an event that cannot be recorded is logged, never an error for
the change that caused it.
"""

import logging
import time

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask

from workspace.extensions import db
from workspace.live import signals
from workspace.models import AutomationFiring, Conversation, Incident, Message, SatisfactionRating, Subscription
from workspace.serializers import serialize_conversation, serialize_incident, serialize_message, timestamp
from workspace.services.subscriptions.delivery import record

log = logging.getLogger(__name__)

# How long a process trusts its list of subscribed events (a new subscription elsewhere waits this long).
WANTED_TTL_SECONDS = 5.0
_wanted = {"at": float("-inf"), "events": frozenset()}


def forget_wanted() -> None:
    """Read the subscribed events again on the next look (after a subscription changed in this process)."""
    _wanted["at"] = float("-inf")


def wanted() -> frozenset:
    """The events some enabled subscription wants, cached for WANTED_TTL_SECONDS."""
    if time.monotonic() - _wanted["at"] > WANTED_TTL_SECONDS:
        rows = db.session.scalars(sa.select(Subscription.events).where(Subscription.enabled.is_(True))).all()
        _wanted["events"] = frozenset(event for events in rows for event in events)
        _wanted["at"] = time.monotonic()
    return _wanted["events"]


def _safely(receiver):
    def run(sender, **kwargs):
        try:
            receiver(**kwargs)
        except Exception:  # noqa: BLE001 - see the module's docstring
            db.session.rollback()
            log.warning("could not record outbound events", exc_info=True)
    run.__doc__ = receiver.__doc__
    return run


def _conversations(ids: list[int], event: str) -> None:
    """conversation.created / .updated, and .resolved when one becomes resolved (not again for an update of a
    resolved one, nor for resolving it twice)."""
    if event not in wanted():
        return
    rows = db.session.scalars(sa.select(Conversation).where(Conversation.id.in_(ids)).order_by(Conversation.id)
                              .options(so.joinedload(Conversation.queue), so.joinedload(Conversation.author))).all()
    record(event, [{"conversation": serialize_conversation(row)} for row in rows])


def _messages(ids: list[int]) -> None:
    """message.created for the replies agents (and automations) sent."""
    if "message.created" not in wanted():
        return
    rows = db.session.scalars(sa.select(Message).where(Message.id.in_(ids)).order_by(Message.id)).all()
    record("message.created", [{"conversation_id": m.conversation_id, "message": serialize_message(m)} for m in rows])


def _firings(ids: list[int]) -> None:
    """automation.fired, with what the firing changed."""
    if "automation.fired" not in wanted():
        return
    rows = db.session.scalars(sa.select(AutomationFiring).where(AutomationFiring.id.in_(ids))).all()
    record("automation.fired", [{
        "automation": {"id": f.automation_id, "name": f.automation.name}, "conversation_id": f.conversation_id,
        "result": f.result, "changes": f.changes, "error": f.error, "fired_at": timestamp(f.fired_at)} for f in rows])


def _incidents(ids: list[int]) -> None:
    """incident.opened: an incident opened by hand or by spike detection."""
    if "incident.opened" not in wanted():
        return
    rows = db.session.scalars(sa.select(Incident).where(Incident.id.in_(ids)).order_by(Incident.id)).all()
    record("incident.opened", [{"incident": serialize_incident(row)} for row in rows])


def _ratings(ids: list[int]) -> None:
    """csat.received: a customer's survey answer."""
    if "csat.received" not in wanted():
        return
    rows = db.session.scalars(sa.select(SatisfactionRating).where(SatisfactionRating.id.in_(ids))).all()
    record("csat.received", [{"conversation_id": r.conversation_id, "score": r.score, "comment": r.comment,
                              "agent_id": r.agent_id, "created_at": timestamp(r.created_at)} for r in rows])


RECEIVERS = {
    signals.conversations_changed: _safely(lambda ids, kind: _conversations(ids, f"conversation.{kind}")),
    signals.conversations_resolved: _safely(lambda ids: _conversations(ids, "conversation.resolved")),
    signals.incidents_opened: _safely(lambda ids: _incidents(ids)),
    signals.replies_queued: _safely(lambda ids: _messages(ids)),
    signals.automations_fired: _safely(lambda ids: _firings(ids)),
    signals.ratings_received: _safely(lambda ids: _ratings(ids)),
}


def init_app(app: Flask) -> None:
    """Connect the receivers that turn changes into outbound events (once per process)."""
    for signal, receiver in RECEIVERS.items():
        signal.connect(receiver)
