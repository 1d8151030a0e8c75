"""The outbox dispatcher: hands committed routing work to RQ in batches.

The request path only commits an outbox row and sets an in-process event; a
background thread (a greenlet under gevent) collects whatever has accumulated
and enqueues it as one job, so a burst of posts costs one Redis round-trip per
batch, not per post. If Redis is down the rows stay and are sent later; the
sweeper covers anything that was enqueued but then lost by Redis.
"""

import logging
import threading
import time
from collections import OrderedDict
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app
from rq.job import Job

from workspace.extensions import db
from workspace.infra.broker import job_queue, redis_client
from workspace.jobs.enqueue import JOBS, PENDING, enqueue, enqueue_many, route_job_id
from workspace.jobs.outages import OUTAGES
from workspace.jobs.tasks import conversations, events
from workspace.live import signals
from workspace.models import Conversation, Escalation, EventDelivery, Message, OutboxEntry, utcnow
from workspace.models.counts import fold_counts
from workspace.services.conversations.delivery import STALE_ATTEMPT

log = logging.getLogger(__name__)

# How often a held batch looks again whether a worker took the last job.
HOLD_POLL_SECONDS = 0.005
# After a failed dispatch (Redis or the database down) the loop waits this long, doubling up to the longest:
# short, because a try costs one refused connection and the outbox should move soon after the outage.
DISPATCH_FIRST_BACKOFF_SECONDS = 0.5
DISPATCH_LONGEST_BACKOFF_SECONDS = 5.0
# Request ids remembered for conversations waiting in the outbox (a few minutes of a heavy backlog).
ORIGINS_KEPT = 50_000


class RequestOrigins:
    """Which request stored each conversation waiting in the outbox, kept in this process for its routing job's meta.

    The outbox row carries no request id; the webhook that stored the
    conversation notes it here, and the dispatcher that claims the row takes it
    into the job's meta (`request_ids`). Rows another process dispatches (the
    sweeper's, another web process's) go without: the trace is best effort,
    the routing is not. Bounded, the oldest forgotten first.
    """

    def __init__(self, limit: int = ORIGINS_KEPT):
        self.limit = limit
        self.by_conversation: OrderedDict[int, str] = OrderedDict()
        self.lock = threading.Lock()

    def note(self, conversation_ids: list[int], request_id: str) -> None:
        """Remember that this request stored (a post of) these conversations."""
        with self.lock:
            for conversation_id in conversation_ids:
                self.by_conversation[conversation_id] = request_id
                self.by_conversation.move_to_end(conversation_id)
            while len(self.by_conversation) > self.limit:
                self.by_conversation.popitem(last=False)

    def take(self, conversation_ids: list[int]) -> dict[str, str]:
        """Forget and return the request ids of these conversations, keyed by conversation id (a string, as JSON)."""
        with self.lock:
            found = {cid: self.by_conversation.pop(cid) for cid in conversation_ids if cid in self.by_conversation}
        return {str(cid): request_id for cid, request_id in found.items()}


def enqueue_routing(conversation_ids: list[int], request_ids: dict[str, str] | None = None) -> str:
    """Enqueue one routing job for these conversations (with the requests that stored them in its meta, when
    known); returns its job id."""
    return enqueue(conversations.route_conversations, sorted(set(conversation_ids)),
                   meta={"request_ids": request_ids} if request_ids else None).id


def dispatch_once(batch_size: int, *, older_than: datetime | None = None) -> list[int]:
    """Claim up to one batch of outbox rows and move them to RQ; returns their conversation ids (one per row).

    The rows are claimed by deleting them (DELETE ... RETURNING), so two
    dispatchers (a web process's and another's, or the sweeper's) never
    enqueue the same row: on PostgreSQL the batch is chosen with
    FOR UPDATE SKIP LOCKED, so a second dispatcher takes the next rows instead
    of waiting; on SQLite the delete takes the database's write lock, and a
    dispatcher that comes after finds the rows gone. The claim commits before
    Redis is called: holding SQLite's write lock across that call stalled every
    other writer of a gevent web process (a greenlet waiting on the lock blocks
    the process, so the dispatcher cannot finish). If the enqueue fails the
    rows are put back; if the process dies in between, the conversations are
    still unrouted and the sweeper enqueues them, so nothing is lost.
    """
    batch = sa.select(OutboxEntry.id).order_by(OutboxEntry.id).limit(batch_size).with_for_update(skip_locked=True)
    if older_than is not None:
        batch = batch.where(OutboxEntry.created_at <= older_than)
    outbox = OutboxEntry.__table__
    claimed = db.session.execute(sa.delete(outbox).where(outbox.c.id.in_(batch.scalar_subquery()))
                                 .returning(outbox.c.id, outbox.c.conversation_id, outbox.c.created_at)).all()
    if not claimed:
        db.session.rollback()
        return []
    db.session.commit()
    conversation_ids = [row.conversation_id for row in sorted(claimed)]
    origins = current_app.extensions.get("request_origins")
    request_ids = origins.take(conversation_ids) if origins is not None else {}
    try:
        enqueue_routing(conversation_ids, request_ids)
    except Exception:
        for conversation_id, request_id in request_ids.items():
            origins.note([int(conversation_id)], request_id)
        # Put the rows back for the next dispatch (the sweeper would find the conversations anyway), under new
        # ids: SQLite hands a deleted highest rowid to the next insert, so a post stored meanwhile may hold one.
        db.session.execute(sa.insert(outbox), [{"conversation_id": row.conversation_id, "created_at": row.created_at}
                                               for row in claimed])
        db.session.commit()
        raise
    return conversation_ids


def sweep(grace_seconds: int, batch_size: int = 500) -> int:
    """Hand RQ whatever has waited past the grace period: outbox rows no
    dispatcher took (say, Redis was down), and conversations still unrouted
    (say, Redis lost their job); also replies still queued, and escalations
    and outbound event deliveries still pending whose job is gone; and fold
    the kept queue counts.

    Returns:
        How many conversations were enqueued.
    """
    cutoff = utcnow() - timedelta(seconds=grace_seconds)
    moved: set[int] = set()
    while batch := dispatch_once(batch_size, older_than=cutoff):
        moved.update(batch)
    unrouted = db.session.scalars(
        sa.select(Conversation.id)
        .where(Conversation.status == "new", Conversation.updated_at <= cutoff)
        .order_by(Conversation.id)
    ).all()
    db.session.rollback()
    ids = [conversation_id for conversation_id in unrouted if conversation_id not in moved]
    for start in range(0, len(ids), batch_size):
        enqueue_routing(ids[start:start + batch_size])
    _resend_queued_replies(cutoff)
    fold_counts()  # count rows from agents' actions pile up even when nothing is routed
    _resend_stale_jobs(cutoff)
    return len(moved) + len(ids)


def _resend_queued_replies(cutoff: datetime) -> None:
    """Queue delivery again for replies still 'queued' after the grace period (Redis was down),
    and for attempts left 'sending' by a worker that died (the job takes over safely)."""
    stuck = db.session.scalars(sa.select(Message.id).where(
        Message.direction == "outbound",
        sa.or_(sa.and_(Message.delivery_status == "queued", Message.created_at <= cutoff),
               sa.and_(Message.delivery_status == "sending",
                       Message.delivery_attempted_at <= utcnow() - STALE_ATTEMPT)))).all()
    db.session.rollback()
    for message_id in stuck:
        try:
            enqueue(conversations.deliver_reply, message_id)
        except Exception:  # noqa: BLE001 - still queued: the next sweep tries again
            log.warning("could not re-enqueue the delivery of reply %d", message_id)


def _resend_stale_jobs(cutoff: datetime) -> int:
    """Enqueue again the escalations and outbound event deliveries pending since before cutoff whose job is gone
    (Redis lost it, or it gave up while the database was away).

    Returns:
        How many were enqueued.
    """
    waiting = (
        (conversations.create_ticket, sa.select(Escalation.id).where(
            Escalation.state == "pending", Escalation.requested_at <= cutoff).order_by(Escalation.id)),
        (events.deliver_event, sa.select(EventDelivery.id).where(
            EventDelivery.state == "pending", EventDelivery.created_at <= cutoff).order_by(EventDelivery.id)),
    )
    enqueued = 0
    for task, query in waiting:
        ids = db.session.scalars(query).all()
        db.session.rollback()
        if not ids:
            continue
        job_id = JOBS[task].job_id  # the table's id, so the sweeper finds the live job
        jobs = Job.fetch_many([job_id(row_id) for row_id in ids], connection=redis_client())
        stale = [row_id for row_id, job in zip(ids, jobs, strict=True)
                 if job is None or job.get_status(refresh=False) not in PENDING]
        if stale:
            try:
                enqueue_many(task, [(row_id,) for row_id in stale])
            except Exception:  # noqa: BLE001 - still pending: the next sweep tries again
                log.warning("could not re-enqueue %s for %s", task.__name__, stale, exc_info=True)
        enqueued += len(stale)
    return enqueued


def waiting_in_queue(job_id: str | None) -> bool:
    """Whether this job is still queued: no worker has started it yet."""
    return job_id is not None and job_queue().connection.hget(Job.key_for(job_id), "status") == b"queued"


class Dispatcher:
    """A per-process background loop that drains the outbox into RQ.

    Batches adapt to the workers: while the last job this loop enqueued still
    waits in the queue (every worker is busy), new rows stay in the outbox and
    go into the next job together, for up to DISPATCH_HOLD_SECONDS. A job
    costs a worker about as much RQ bookkeeping as routing a dozen posts, so
    under load a stream of one-post jobs would leave the workers ever further
    behind; when they keep up, each batch still leaves at once.
    """

    def __init__(self, app: Flask):
        self.app = app
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.last_job: str | None = None

    def notify(self) -> None:
        """Tell the loop there is new work; starts it on first use (after any fork)."""
        if self.thread is None:
            with self.lock:
                if self.thread is None:
                    self.thread = threading.Thread(target=self.run, name="outbox-dispatcher", daemon=True)
                    self.thread.start()
        self.wake.set()

    def run(self) -> None:
        """Drain the outbox whenever notified, and every poll interval regardless; after a failure, back off.

        While backing off, new posts do not cut the wait short: at 200 posts/s
        every post used to wake the loop into another failing Redis call and
        another traceback in the log. An outage is logged once when it starts
        and once when dispatching works again.
        """
        config = self.app.config
        backoff, retry_at, failing_since = 0.0, 0.0, None
        while not self.stopping.is_set():
            pause = retry_at - time.monotonic()
            if pause > 0:
                self.stopping.wait(pause)
            else:
                self.wake.wait(timeout=config["DISPATCH_POLL_SECONDS"])
            self.wake.clear()
            if self.stopping.is_set():
                break
            time.sleep(config["DISPATCH_LINGER_SECONDS"])  # let a burst gather into one batch
            with self.app.app_context():
                try:
                    self._hold_while_workers_are_busy()
                    while True:
                        batch = dispatch_once(config["DISPATCH_BATCH"])
                        if batch:
                            self.last_job = route_job_id(batch)
                        if len(batch) < config["DISPATCH_BATCH"]:
                            break
                    if failing_since is not None:
                        log.warning("outbox dispatch works again after %.0f s", time.monotonic() - failing_since)
                    backoff, retry_at, failing_since = 0.0, 0.0, None
                except Exception as error:
                    db.session.rollback()
                    backoff = min(max(backoff * 2, DISPATCH_FIRST_BACKOFF_SECONDS), DISPATCH_LONGEST_BACKOFF_SECONDS)
                    retry_at = time.monotonic() + backoff
                    if failing_since is None:  # one line per outage; an unexpected error keeps its traceback
                        failing_since = time.monotonic()
                        log.warning("outbox dispatch failed (%s: %s); retrying with backoff up to %.0f s",
                                    type(error).__name__, error, DISPATCH_LONGEST_BACKOFF_SECONDS,
                                    exc_info=not isinstance(error, OUTAGES))
                finally:
                    db.session.remove()

    def _hold_while_workers_are_busy(self) -> None:
        """Wait while the last job is still queued, up to the hold time (see the class docstring)."""
        deadline = time.monotonic() + self.app.config["DISPATCH_HOLD_SECONDS"]
        while not self.stopping.is_set() and time.monotonic() < deadline and waiting_in_queue(self.last_job):
            time.sleep(HOLD_POLL_SECONDS)

    def stop(self) -> None:
        """Stop the loop and wait for it (tests, and a clean shutdown)."""
        self.stopping.set()
        self.wake.set()
        if self.thread is not None:
            self.thread.join(timeout=10)


def notify(conversation_ids: list[int] = (), request_id: str | None = None) -> None:
    """Wake this process's dispatcher, if it runs here, noting which request stored these conversations."""
    if request_id and conversation_ids:
        current_app.extensions["request_origins"].note(conversation_ids, request_id)
    dispatcher = current_app.extensions.get("dispatcher")
    if dispatcher is not None:
        dispatcher.notify()


def _posts_stored(sender, ids: list[int]) -> None:
    """Posts stored by a job (spooled mail read by a worker): wake this process's dispatcher."""
    notify(ids)


def init_app(app: Flask) -> None:
    """Attach the request origins, a dispatcher when configured to run one, and wake it when a job stores
    posts (connecting is idempotent)."""
    app.extensions["request_origins"] = RequestOrigins()
    if app.config["DISPATCHER_ENABLED"]:
        app.extensions["dispatcher"] = Dispatcher(app)
    signals.posts_stored.connect(_posts_stored)
