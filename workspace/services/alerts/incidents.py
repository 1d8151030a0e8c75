"""Incidents told to engineering: a Slack-compatible post when one opens and each time it grows, and
optionally one ticket through the escalation client.

The worker's job posts `{"text": ..., "blocks": [...]}` (Slack's incoming-webhook format, which Mattermost,
Rocket.Chat and Teams' Slack-compatible hooks take too). A post is claimed first (a conditional update of
the incident's alert row), so two jobs for one incident post once; a failed post gives its claim back and
raises, so RQ retries it on its backoff. The ticket is looked up by its external_id before it is created, so
a retry after a timeout opens no second one.
"""

import logging

import requests
import sqlalchemy as sa
from flask import current_app

from workspace.extensions import db
from workspace.models import Incident, IncidentAlert, utcnow
from workspace.services.alerts.settings import current
from workspace.services.escalation.client import TicketingClient, TicketingError
from workspace.services.subscriptions.targets import Refused, check_target
from workspace.services.supervision.incidents import conversation_counts
from workspace.services.supervision.volume import dialect_insert

log = logging.getLogger(__name__)

# An incident is posted again once it holds this many times the conversations it held when last posted,
# and at least GROWTH_MIN more: a doubling is news, a trickle is not.
GROWTH_FACTOR = 2
GROWTH_MIN = 5
# Seconds to connect and to wait for the webhook's answer.
TIMEOUT = (5.0, 10.0)
MAX_ERROR_CHARS = 500


class AlertFailed(Exception):
    """The webhook or the ticketing system did not take it; the job is retried."""


def next_post_at(posted_size: int, posts: int) -> int:
    """How many conversations the incident must hold for its next post (its first: any number)."""
    if posts == 0:
        return 0
    return max(posted_size * GROWTH_FACTOR, posted_size + GROWTH_MIN)


def due_incidents() -> list[int]:
    """Open incidents with a post (opened or grown) or a ticket due, for the periodic check."""
    settings = current()
    if not settings.slack_webhook_url and not settings.incident_tickets:
        return []
    rows = db.session.execute(
        sa.select(Incident.id, IncidentAlert.posted_size, IncidentAlert.posts, IncidentAlert.ticket_id)
        .outerjoin(IncidentAlert, IncidentAlert.incident_id == Incident.id)
        .where(Incident.status == "open").order_by(Incident.id)).all()
    sizes = conversation_counts([row[0] for row in rows])
    due = []
    for incident_id, posted_size, posts, ticket_id in rows:
        size = sizes[incident_id]["conversations"]
        if (settings.slack_webhook_url and size >= next_post_at(posted_size or 0, posts or 0)
                or settings.incident_tickets and ticket_id is None):
            due.append(incident_id)
    return due


def alert_incident(incident_id: int) -> dict:
    """Post the incident to the webhook if a post is due, and open its ticket if asked for and not done yet.

    Returns:
        What was done: {"posted": "opened" | "grew", "size": n, "ticket_id": id}, each only when done.

    Raises:
        AlertFailed: the post or the ticket failed (its claim given back): RQ retries the job.
    """
    incident = db.session.get(Incident, incident_id)
    if incident is None or incident.status != "open":
        return {}
    settings = current()
    db.session.execute(dialect_insert(IncidentAlert.__table__).on_conflict_do_nothing(),
                       [{"incident_id": incident_id, "posted_size": 0, "posts": 0}])
    db.session.commit()
    done = {}
    if settings.slack_webhook_url:
        done.update(_post_if_due(incident, settings.slack_webhook_url))
    if settings.incident_tickets:
        done.update(_open_ticket(incident))
    return done


def _claim(incident_id: int, size: int) -> tuple[int, int] | None:
    """Take the post due at `size`: returns the (posted_size, posts) it replaces, None if not due or taken."""
    alert = db.session.get(IncidentAlert, incident_id, populate_existing=True)
    before = (alert.posted_size, alert.posts)
    if size < next_post_at(*before):
        return None
    claimed = db.session.execute(
        sa.update(IncidentAlert).where(IncidentAlert.incident_id == incident_id, IncidentAlert.posts == before[1])
        .values(posted_size=size, posts=before[1] + 1, last_posted_at=utcnow()))
    db.session.commit()
    return before if claimed.rowcount == 1 else None


def _post_if_due(incident: Incident, url: str) -> dict:
    size = conversation_counts([incident.id])[incident.id]["conversations"]
    before = _claim(incident.id, size)
    if before is None:
        return {}
    kind = "opened" if before[1] == 0 else "grew"
    try:
        check_target(url)
        response = requests.post(url, json=message(incident, size, kind, before[0]), timeout=TIMEOUT,
                                 allow_redirects=False)
        if not 200 <= response.status_code < 300:
            raise AlertFailed(f"the webhook answered HTTP {response.status_code}: {response.text[:200]}")
    except (requests.RequestException, Refused, AlertFailed) as error:
        db.session.execute(sa.update(IncidentAlert).where(
            IncidentAlert.incident_id == incident.id, IncidentAlert.posts == before[1] + 1)
            .values(posted_size=before[0], posts=before[1], last_error=str(error)[:MAX_ERROR_CHARS]))
        db.session.commit()
        raise AlertFailed(f"incident {incident.id}: {error}") from error
    db.session.execute(sa.update(IncidentAlert).where(IncidentAlert.incident_id == incident.id)
                       .values(last_error=None))
    db.session.commit()
    return {"posted": kind, "size": size}


def _open_ticket(incident: Incident) -> dict:
    alert = db.session.get(IncidentAlert, incident.id, populate_existing=True)
    if alert.ticket_id is not None:
        return {}
    client = TicketingClient.from_config(current_app.config)
    external_id = f"incident-{incident.id}"
    try:
        found = client.find_by_external_id(external_id)
        ticket = found[0] if found else client.create_ticket(ticket_for(incident))
    except TicketingError as error:
        alert.last_error = f"ticket: {error}"[:MAX_ERROR_CHARS]
        db.session.commit()
        raise AlertFailed(f"incident {incident.id}: {error}") from error
    alert.ticket_id, alert.ticket_url = ticket["id"], client.agent_url(ticket["id"])
    db.session.commit()
    return {"ticket_id": ticket["id"]}


def _link(incident: Incident) -> str:
    return f"{current_app.config['PUBLIC_URL']}/dashboard#incident-{incident.id}"


def _escape(text: str) -> str:
    """Slack's mrkdwn escapes: a title cannot make a link or a mention (<!channel>)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def message(incident: Incident, size: int, kind: str, was: int) -> dict:
    """The webhook's JSON for an incident that opened, or grew from `was` conversations to `size`."""
    headline = (f"Incident opened: {incident.title}" if kind == "opened"
                else f"Incident growing: {incident.title}")
    figures = f"{size} conversation{'s' if size != 1 else ''}" + ("" if kind == "opened" else f" (was {was})")
    details = [figures]
    if incident.match_kind:
        details.append(f"matching {incident.match_kind} \u201c{incident.match_value}\u201d")
    if incident.spike:
        details.append(f"{incident.spike.get('observed')} posts in {incident.spike.get('window_minutes')} min, "
                       f"about {incident.spike.get('expected', 0):.0f} expected")
    text = f"{headline} \u2014 {'; '.join(details)}. {_link(incident)}"
    return {"text": text, "blocks": [
        {"type": "section", "text": {"type": "mrkdwn",
                                     "text": f"*{_escape(headline)}*\n{_escape('; '.join(details))}"}},
        {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text",
                                                                     "text": "Open in Switchboard"},
                                          "url": _link(incident)}]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Switchboard incident #{incident.id}"}]}]}


def ticket_for(incident: Incident) -> dict:
    """The ticket engineering gets for an incident: its title, figures and link, found again by external_id."""
    body = message(incident, conversation_counts([incident.id])[incident.id]["conversations"], "opened", 0)["text"]
    return {"subject": " ".join(f"Incident: {incident.title}".split())[:150],
            "comment": {"body": body, "public": False}, "priority": "high",
            "tags": ["switchboard", "incident"], "external_id": f"incident-{incident.id}"}
