"""The one table of jobs: every RQ entry point with its job id, timeout and retries, enqueued by reference.

Web and worker run the same code, so jobs are named by function reference
(RQ's string references are for a web process that lacks the worker's code).
Each job's id is derived from its arguments, so asking again for the same work
while it waits names the same job instead of adding one. Services never
enqueue: they ask through `live` signals after their commit, and `init_app`
connects the receivers below, which turn those asks into jobs.
"""

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, current_app
from redis.exceptions import RedisError
from rq import Retry
from rq.exceptions import DuplicateJobError
from rq.job import Job, JobStatus

from routing.features import DEFAULT_FEATURES
from workspace.extensions import db
from workspace.infra.broker import job_queue
from workspace.jobs.tasks import alerts, background, conversations, events, mail, notifications
from workspace.live import signals, trace
from workspace.models import Correction
from workspace.services.conversations.replies import DELIVERY_JOB_TIMEOUT
from workspace.services.escalation.tickets import CREATE_JOB_TIMEOUT

log = logging.getLogger(__name__)

DAY = 86400
# Jobs in these states will still run: asking again for one of them adds nothing.
PENDING = (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED)


@dataclass(frozen=True)
class JobSpec:
    """How one job is enqueued: its id from its arguments, its timeout, its retries and how long RQ keeps it."""

    job_id: Callable[..., str]
    timeout: int | Callable[..., int]
    retry: Retry | Callable[[], Retry] | None = None
    result_ttl: int | None = None  # None: RQ's default
    failure_ttl: int | None = None
    # Jump the queue: for the few short jobs someone is waiting on (a push to a phone), which would otherwise
    # wait behind the routing and suggestion batches of a burst.
    at_front: bool = False

    def options(self, *args, **kwargs) -> dict:
        """The keyword arguments of `enqueue_call` for a call with these arguments."""
        options = {"job_id": self.job_id(*args, **kwargs),
                   "timeout": self.timeout(*args, **kwargs) if callable(self.timeout) else self.timeout,
                   "retry": self.retry() if callable(self.retry) else self.retry}
        if self.result_ttl is not None:
            options["result_ttl"] = self.result_ttl
        if self.failure_ttl is not None:
            options["failure_ttl"] = self.failure_ttl
        if self.at_front:
            options["at_front"] = True
        return options


def route_job_id(conversation_ids: list[int]) -> str:
    """The routing job's id for a batch: derived from the conversation ids, so enqueueing
    the same batch again (the sweeper after the dispatcher) names the same job."""
    ids = sorted(set(conversation_ids))
    return "route-" + hashlib.sha1(",".join(map(str, ids)).encode()).hexdigest()[:20]


def _digest(ids: list) -> str:
    """A short stable name for a list of ids (or id pairs)."""
    return hashlib.sha1(repr(sorted(ids)).encode()).hexdigest()[:20]


def _escalation_retry() -> Retry:
    """Ticket creation retries on the configured backoff (ESCALATION_RETRY_SECONDS)."""
    intervals = current_app.config["ESCALATION_RETRY_SECONDS"]
    return Retry(max=len(intervals), interval=intervals)


def _retrain_id(force: bool = False) -> str:
    """One retrain per queue (a forced one apart), so repeated asks while it waits add nothing."""
    return f"retrain-{current_app.config['RQ_QUEUE']}{'-forced' if force else ''}"


def train_upload_id(upload: str, mapping: dict, create_queues: bool, fit_all: bool, force: bool,
                    agent_id: int | None, features: str = DEFAULT_FEATURES) -> str:
    """One training job per uploaded file (named by its digest) and options: uploading it twice trains once."""
    options = repr((sorted(mapping.items()), create_queues, fit_all, force, features)).encode()
    return f"train-{upload.partition('.')[0]}-{hashlib.sha1(options).hexdigest()[:8]}"


# Backoff between delivery attempts: a minute, then longer, up to an hour.
DELIVERY_RETRY = Retry(max=6, interval=[10, 30, 60, 300, 900, 3600])
JOBS: dict[Callable, JobSpec] = {
    # Routing a batch takes well under a second; the timeout bounds a stuck job.
    conversations.route_conversations: JobSpec(route_job_id, 300, Retry(max=3, interval=[1, 5, 30]),
                                               result_ttl=600, failure_ttl=7 * DAY),
    # One job per group of mail the SMTP listener spooled (or batch the sweeper found); reading a group of a
    # few hundred messages takes about a second. Keyed by the ids: the same batch swept twice is one job.
    mail.read_spooled_mail: JobSpec(lambda ids: "mail-" + _digest(ids), 300, Retry(max=3, interval=[5, 30, 120]),
                                    result_ttl=600, failure_ttl=7 * DAY),
    # Suggesting for a batch costs milliseconds a conversation, once the worker holds the active ranker.
    conversations.suggest_for_conversations: JobSpec(lambda ids: "suggest-" + route_job_id(ids)[6:], 300,
                                                     Retry(max=3, interval=[5, 30, 120]), result_ttl=600),
    conversations.deliver_reply: JobSpec(lambda message_id: f"deliver-{message_id}", DELIVERY_JOB_TIMEOUT,
                                         DELIVERY_RETRY, failure_ttl=30 * DAY),
    conversations.deliver_replies: JobSpec(lambda ids: f"deliver-{ids[0]}-{ids[-1]}",
                                           lambda ids: DELIVERY_JOB_TIMEOUT * len(ids), DELIVERY_RETRY,
                                           failure_ttl=30 * DAY),
    conversations.create_ticket: JobSpec(lambda escalation_id: f"escalate-{escalation_id}", CREATE_JOB_TIMEOUT,
                                         _escalation_retry, result_ttl=600, failure_ttl=30 * DAY),
    # One id per set of queues: asking again while that job still waits replaces it instead of adding one.
    conversations.assign_queues: JobSpec(lambda ids: f"assign-{'-'.join(map(str, ids))}", 120),
    # A batch of 10,000 conversations takes seconds; the timeout bounds a stuck job.
    background.run_bulk: JobSpec(lambda bulk_id: f"bulk-run-{bulk_id}", 1800, Retry(max=3, interval=[5, 30, 120]),
                                 result_ttl=3600, failure_ttl=7 * DAY),
    background.undo_bulk: JobSpec(lambda bulk_id: f"bulk-undo-{bulk_id}", 1800,
                                  Retry(max=3, interval=[5, 30, 120]), result_ttl=3600, failure_ttl=7 * DAY),
    # Banking77-sized data trains in under a minute; the timeout bounds a stuck run.
    background.retrain: JobSpec(_retrain_id, 1800, Retry(max=2, interval=[60, 300]), result_ttl=DAY,
                                failure_ttl=7 * DAY),
    # One job per uploaded file (named by its digest) and options: uploading it twice trains once.
    background.train_upload: JobSpec(train_upload_id, 1800, Retry(max=2, interval=[60, 300]), result_ttl=DAY,
                                     failure_ttl=7 * DAY),
    # One training at a time; it reads every applied macro and reply, minutes at millions of them.
    background.train_suggestions: JobSpec(lambda force=False: f"train-suggestions-{current_app.config['RQ_QUEUE']}",
                                          1800, result_ttl=DAY, failure_ttl=7 * DAY),
    # Repeated edits of one policy: one re-plan.
    background.resync_slas: JobSpec(lambda queue_id, priority: f"sla-resync-{queue_id}-{priority}", 600),
    # One run per policy at a time; an hour covers millions of closed conversations in batches.
    background.apply_retention: JobSpec(lambda days, mode: f"retention-{days}-{mode}", 3600, result_ttl=7 * DAY),
    # Keyed per event, so a retry records nothing twice; a batch of 200 routed conversations takes well under
    # a second.
    # At the front of the queue: an urgent post's push should not wait for the batches routed after it.
    notifications.notify: JobSpec(lambda kind, ids: f"notify-{kind}-{_digest(ids)}", 120,
                                  Retry(max=3, interval=[1, 5, 30]), result_ttl=60, failure_ttl=7 * DAY,
                                  at_front=True),
    # One waiting push job per agent: asking again while it waits adds nothing, so a burst is one push.
    # Each device's request times out in PUSH_TIMEOUT_SECONDS; the job's timeout bounds the lot.
    notifications.push_notifications: JobSpec(lambda agent_id: f"push-{agent_id}", 120, result_ttl=60,
                                              failure_ttl=DAY, at_front=True),
    # One attempt is one POST (10 s at most); then 10 s, 1 min, 5 min, 30 min and 2 h before the next ones.
    events.deliver_event: JobSpec(lambda delivery_id: f"event-{delivery_id}", 60,
                                  Retry(max=5, interval=[10, 60, 300, 1800, 7200]), result_ttl=600,
                                  failure_ttl=7 * DAY),
    # One attempt is one POST and at most two ticketing calls (10 s each); retried over about two hours.
    alerts.alert_incident: JobSpec(lambda incident_id: f"incident-alert-{incident_id}", 60,
                                   Retry(max=5, interval=[10, 60, 300, 1800, 3600]), result_ttl=600,
                                   failure_ttl=7 * DAY),
}


def job_meta(meta: dict | None = None) -> dict | None:
    """A job's meta: the given fields, plus the id of the request (or of the request behind the job) that
    asks for it, so the job's log line and events can name it (see live.trace)."""
    request_id = trace.current().get("request_id")
    merged = {**({"request_id": request_id} if request_id else {}), **(meta or {})}
    return merged or None


def enqueue(function: Callable, *args, meta: dict | None = None, **kwargs) -> Job:
    """Enqueue one job of the table by function reference, with its id, timeout, retries and meta."""
    return job_queue().enqueue_call(function, args=args, kwargs=kwargs, meta=job_meta(meta),
                                    **JOBS[function].options(*args, **kwargs))


def enqueue_many(function: Callable, calls: list[tuple]) -> list[Job]:
    """Enqueue many jobs of one kind in one Redis pipeline (one tuple of arguments a job)."""
    queue, meta = job_queue(), job_meta()
    return queue.enqueue_many([queue.prepare_data(function, args=args, meta=meta, **JOBS[function].options(*args))
                               for args in calls])


def _enqueue_once(function: Callable, force: bool) -> str:
    """Enqueue a training job unless one is already waiting or running; returns its job id."""
    queue, options = job_queue(), JOBS[function].options(force)
    existing = queue.fetch_job(options["job_id"])
    if existing is not None:
        if existing.get_status() in PENDING:
            return options["job_id"]
        existing.delete()  # a finished or failed run: make way for a new one
    try:
        queue.enqueue_call(function, kwargs={"force": force}, unique=True, **options)
    except DuplicateJobError:
        pass  # another process enqueued it between our look and our enqueue: still one job
    return options["job_id"]


def enqueue_retrain(force: bool = False) -> str:
    """Enqueue the classifier's retrain job unless one is already waiting or running; returns its job id."""
    return _enqueue_once(background.retrain, force)


def enqueue_suggestion_training(force: bool = False) -> str:
    """Enqueue the suggestion ranker's training unless one is already waiting or running; returns its job id."""
    return _enqueue_once(background.train_suggestions, force)


def retrain_if_due() -> str | None:
    """Enqueue the retrain job once RETRAIN_AFTER_CORRECTIONS unused corrections exist; returns its job id.

    Runs after a correction is committed: if Redis is unreachable the agent's
    move still stands, and the next correction tries again (the count only grows).
    """
    unused = db.session.scalar(
        sa.select(sa.func.count()).select_from(Correction).where(Correction.used_in_version.is_(None)))
    if unused < current_app.config["RETRAIN_AFTER_CORRECTIONS"]:
        return None
    try:
        return enqueue_retrain()
    except RedisError:
        log.warning("cannot enqueue the retrain job (%d unused corrections); will retry on the next", unused,
                    exc_info=True)
        return None


def _deliver(sender, ids: list[int]) -> None:
    """Queue delivery of stored replies: one job for one reply, one job for a bulk batch's many.

    If Redis is down the replies stay 'queued' and the sweeper sends them later.
    """
    try:
        if len(ids) == 1:
            enqueue(conversations.deliver_reply, ids[0])
        else:
            enqueue(conversations.deliver_replies, ids)
    except Exception:  # noqa: BLE001 - the sweeper retries; the replies are already stored
        db.session.rollback()


def _escalate(sender, ids: list[int]) -> None:
    """Queue the ticket-creating job of each escalation, in one pipeline.

    If Redis cannot be reached nothing is lost: the escalations stay pending
    and the sweeper enqueues them later.
    """
    try:
        enqueue_many(conversations.create_ticket, [(escalation_id,) for escalation_id in sorted(set(ids))])
    except Exception:  # noqa: BLE001 - Redis down: the sweeper re-enqueues pending escalations
        log.warning("could not enqueue escalations %s; the sweeper will", ids, exc_info=True)


def _assign(sender, ids: list[int]) -> None:
    """Ask a worker to assign waiting work in these queues (best effort: the periodic catch-up covers it)."""
    try:
        enqueue(conversations.assign_queues, sorted(set(ids)))
    except Exception:  # noqa: BLE001 - the periodic catch-up covers it
        log.warning("could not queue an assignment job; the periodic run will catch up")


def _retrain(sender, ids: list[int]) -> None:
    """Agents corrected routing: retrain once enough corrections wait."""
    retrain_if_due()


def _run_bulk(sender, ids: list[int]) -> None:
    """Start a bulk action's job (raises if Redis is down: the agent is told, nothing was done)."""
    for bulk_id in ids:
        enqueue(background.run_bulk, bulk_id)


def _undo_bulk(sender, ids: list[int]) -> None:
    """Start a bulk action's undo job."""
    for bulk_id in ids:
        enqueue(background.undo_bulk, bulk_id)


def _resync(sender, ids: list[tuple[int, int]]) -> None:
    """Re-plan the clocks a policy or calendar change affects (best effort: Redis may be down, and the
    clocks are re-planned anyway the next time each conversation changes)."""
    try:
        for queue_id, priority in ids:
            enqueue(background.resync_slas, queue_id, int(priority))
    except Exception:  # noqa: BLE001 - see the docstring
        log.warning("could not queue an SLA re-plan; clocks follow the change as conversations move")


def _notifier(kind: str) -> Callable:
    """A receiver that asks a worker to notify the agents a change concerns (best effort: a notification is a
    courtesy, and the change itself stands if Redis is down)."""
    def receive(sender, ids: list, **_) -> None:
        try:
            enqueue(notifications.notify, kind, list(ids))
        except Exception:  # noqa: BLE001 - see the docstring
            log.warning("could not queue %s notifications for %s", kind, ids[:10], exc_info=True)
    return receive


def _push(sender, ids: list[int]) -> None:
    """Ask a worker to push each agent's new notifications (best effort: the periodic run pushes what waits)."""
    try:
        enqueue_many(notifications.push_notifications, [(agent_id,) for agent_id in sorted(set(ids))])
    except Exception:  # noqa: BLE001 - see the docstring
        log.warning("could not queue pushes for agents %s; the periodic run will", ids[:10], exc_info=True)


def _suggest(sender, ids: list[int], **extra) -> None:
    """Routed conversations: suggest for them in a worker (best effort: the console shows none until then)."""
    if not current_app.config["SUGGESTIONS_ENABLED"]:
        return
    try:
        enqueue(conversations.suggest_for_conversations, sorted(set(ids)))
    except Exception:  # noqa: BLE001 - suggestions are a help, never a reason to fail routing
        log.warning("could not queue suggestions for %d conversations", len(ids))



def _alert_incidents(sender, ids: list[int]) -> None:
    """Tell engineering of opened incidents (best effort: the periodic check posts what is still due)."""
    try:
        enqueue_many(alerts.alert_incident, [(incident_id,) for incident_id in sorted(set(ids))])
    except Exception:  # noqa: BLE001 - see the docstring
        log.warning("could not enqueue incident alerts %s", ids, exc_info=True)


def _deliver_events(sender, ids: list[int]) -> None:
    """Queue the delivery of outbound events (best effort: Redis down leaves them pending in the log)."""
    try:
        enqueue_many(events.deliver_event, [(delivery_id,) for delivery_id in sorted(set(ids))])
    except Exception:  # noqa: BLE001 - see the docstring
        log.warning("could not enqueue event deliveries %s", ids, exc_info=True)


# (signal, receiver) pairs: a signal may have several (routed conversations: notifications and suggestions).
RECEIVERS = (
    (signals.replies_queued, _deliver),
    (signals.escalations_requested, _escalate),
    (signals.assignment_requested, _assign),
    (signals.corrections_added, _retrain),
    (signals.bulk_started, _run_bulk),
    (signals.bulk_undo_requested, _undo_bulk),
    (signals.sla_resync_requested, _resync),
    (signals.conversations_assigned, _notifier("assigned")),
    (signals.notes_added, _notifier("note")),
    (signals.conversations_routed, _notifier("routed")),
    (signals.sla_at_risk, _notifier("sla")),
    (signals.incidents_opened, _notifier("incident")),
    (signals.incidents_opened, _alert_incidents),
    (signals.notifications_created, _push),
    (signals.conversations_routed, _suggest),
    (signals.events_recorded, _deliver_events),
)


def init_app(app: Flask) -> None:
    """Connect the receivers that turn the services' asks into jobs (once per process; connecting is idempotent)."""
    for signal, receiver in RECEIVERS:
        signal.connect(receiver)


def enqueue_retention(days: int, mode: str) -> Job:
    """Enqueue the retention job for this policy, or return the one already waiting or running."""
    job_id = JOBS[background.apply_retention].job_id(days, mode)
    existing = job_queue().fetch_job(job_id)
    if existing is not None and existing.get_status() in PENDING:
        return existing
    if existing is not None:
        existing.delete()
    return enqueue(background.apply_retention, days, mode)


def retention_job(job_id: str) -> Job | None:
    """The retention job of this id, if RQ still holds it."""
    return job_queue().fetch_job(job_id) if job_id.startswith("retention-") else None
