"""Periodic jobs, run by the scheduler (see jobs.schedule): each catches up on what time has changed."""

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from rq.job import Job

from workspace.extensions import db
from workspace.infra.broker import redis_client
from workspace.jobs import dispatch
from workspace.jobs.enqueue import JOBS, PENDING, enqueue_many
from workspace.jobs.tasks import alerts, mail
from workspace.models import Author, utcnow
from workspace.services import assignment
from workspace.services.alerts import incidents as incident_alerts
from workspace.services.alerts import weekly
from workspace.services.automations import engine, library
from workspace.services.intake import spool
from workspace.services.notifications import triggers, webpush
from workspace.services.people import links
from workspace.services.responses import actions
from workspace.services.service_levels import clocks
from workspace.services.supervision import incidents

# Spooled mail is swept after ten times the sweep's grace: a read job may wait behind routing in a busy
# worker, and RQ retries a failed one after 30 s and 120 s; before that its own job is on its way, and a
# second one would parse the same mail again (it is still stored once).
SPOOL_GRACE_FACTOR = 10


def sweep() -> int:
    """Re-enqueue work that waited past the grace period (spooled mail, routing, replies, tickets) and fold
    the counts."""
    grace = current_app.config["SWEEP_GRACE_SECONDS"]
    swept = dispatch.sweep(grace)  # first: a failure sweeping the spool must not hold up routing and replies
    return swept + resend_spooled_mail(grace * SPOOL_GRACE_FACTOR)


def resend_spooled_mail(grace_seconds: int) -> int:
    """Hand to a job again the mail spooled before the grace period whose job is gone (Redis lost it, a
    worker died, the listener could not enqueue it); a batch whose job still waits is left to it. Reading
    is claimed per message, so a message in two jobs is still stored once.

    Returns:
        How many spooled messages were enqueued.
    """
    batches = spool.waiting_since(utcnow() - timedelta(seconds=grace_seconds))
    if not batches:
        return 0
    job_id = JOBS[mail.read_spooled_mail].job_id
    jobs = Job.fetch_many([job_id(ids) for ids in batches], connection=redis_client())
    stale = [ids for ids, job in zip(batches, jobs, strict=True)
             if job is None or job.get_status(refresh=False) not in PENDING]
    enqueue_many(mail.read_spooled_mail, [(ids,) for ids in stale])
    return sum(len(ids) for ids in stale)


def check_slas() -> dict:
    """Move SLA clocks whose moment came to at risk or breached, and announce them."""
    return clocks.check()


def assignment_tick() -> dict:
    """Return untouched work of agents who went away, then assign what waits."""
    returned = assignment.return_untouched()
    return {"returned": returned, "assigned": assignment.assign_waiting(None)}


def wake_snoozed() -> int:
    """Reopen snoozed conversations whose time has come."""
    return actions.wake_snoozed()


def detect_spikes() -> list[int]:
    """Look for volume spikes and open an incident for each new one; returns their ids."""
    return [incident.id for incident in incidents.detect_spikes()]


def alert_incidents() -> list[int]:
    """Ask for the Slack post of each open incident that opened or grew, and its ticket; returns their ids."""
    due = incident_alerts.due_incidents()
    enqueue_many(alerts.alert_incident, [(incident_id,) for incident_id in due])
    return due


def send_weekly_report() -> dict:
    """Mail the weekly report if its weekday and hour came and this week's was not sent (raises if the relay
    refused it: the next run tries again)."""
    return weekly.send_if_due()


# Where the search for people stopped: the highest author id looked at (lost with Redis: it starts again,
# and finding a pair twice changes nothing).
PEOPLE_SCANNED_KEY = "switchboard:people:scanned"
# Authors looked at per run; a backlog drains a batch a minute.
PEOPLE_BATCH = 2_000


def propose_person_links() -> dict:
    """Look at the authors that arrived since the last run for the people they may be; propose those links."""
    redis = redis_client()
    after = int(redis.get(PEOPLE_SCANNED_KEY) or 0)
    ids = list(db.session.scalars(sa.select(Author.id).where(Author.id > after).order_by(Author.id)
                                  .limit(PEOPLE_BATCH)))
    proposed = links.propose_for(ids) if ids else 0
    if ids:
        redis.set(PEOPLE_SCANNED_KEY, ids[-1])
    return {"authors": len(ids), "proposed": proposed}


def notifications_tick() -> dict:
    """Hand urgent conversations nobody on call opened to the next person on call, then push what waited
    (capped agents whose minute is over, pushes whose job was lost)."""
    escalated = triggers.escalate()
    pushed = [webpush.push_pending(agent_id) for agent_id in webpush.waiting_agents()]
    return {"escalated": escalated, "agents_pushed": len(pushed)}


def run_automations() -> dict:
    """Install the shipped automations if missing, then fire the enabled ones on what meets their conditions."""
    library.install_defaults()
    return engine.run_automations()
