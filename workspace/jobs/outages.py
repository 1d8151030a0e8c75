"""Riding out Redis and database outages: the worker and the scheduler wait and carry on instead of exiting.

RQ's own loops stop (or raise) when Redis goes away at the wrong moment: a
worker whose failure handling meets a dead connection quits, and the cron
scheduler raises when a periodic job falls due. `keep_running` runs such a
loop again once Redis (and the database, where the loop needs it) answers,
checking with a growing wait and saying so in the log.
"""

import logging
import time
from collections.abc import Callable

import sqlalchemy as sa
from redis.exceptions import RedisError
from rq.exceptions import StopRequested
from rq.job import Job, JobStatus

from workspace.extensions import db
from workspace.infra.broker import job_queue, redis_client

log = logging.getLogger(__name__)

# The first wait after an outage, doubled on each failed check up to the longest.
FIRST_WAIT_SECONDS = 0.5
LONGEST_WAIT_SECONDS = 30.0
# A loop that ran at least this long before stopping was healthy: its next restart waits the least again.
HEALTHY_RUN_SECONDS = 60.0
# What an outage looks like from here: the connection to Redis or to the database failed.
OUTAGES = (RedisError, sa.exc.OperationalError, sa.exc.InterfaceError)


def unreachable(*, database: bool = True) -> str | None:
    """Name what does not answer now ("Redis", "the database"), or None when everything does."""
    try:
        redis_client().ping()
    except RedisError:
        return "Redis"
    if database:
        try:
            db.session.execute(sa.text("SELECT 1"))
        except sa.exc.DBAPIError:
            return "the database"
        finally:
            db.session.remove()
    return None


def wait_for_services(what: str, *, database: bool = True, first_wait: float = FIRST_WAIT_SECONDS) -> None:
    """Block until Redis (and the database) answer, checking with a growing wait and logging each miss.

    Args:
        what: the process waiting, for the log ("worker", "scheduler").
        database: whether the database must answer too.
        first_wait: the wait before the second check.
    """
    wait, down_since = first_wait, None
    while (missing := unreachable(database=database)) is not None:
        down_since = down_since or time.monotonic()
        log.warning("%s: %s does not answer; checking again in %.1f s", what, missing, wait)
        time.sleep(wait)
        wait = min(wait * 2, LONGEST_WAIT_SECONDS)
    if down_since is not None:
        log.warning("%s: Redis and the database answer again after %.0f s; carrying on",
                    what, time.monotonic() - down_since)


def keep_running(run: Callable[[], bool], what: str, *, database: bool = True,
                 stop_requested: Callable[[], bool] = lambda: False) -> None:
    """Call `run` until it says it stopped on request; after an outage (raised or not), wait for the
    services and call it again, unless a stop was asked for meanwhile.

    Args:
        run: one life of the loop; returns True when asked to stop (a signal), False when it gave up.
        what: the process, for the log.
        database: whether the loop needs the database as well as Redis.
        stop_requested: whether a stop was asked for (a SIGTERM that came before the outage: the soak found
            workers told to stop, then cut off from Redis, waiting for it for good).
    """
    wait = FIRST_WAIT_SECONDS
    while True:
        started = time.monotonic()
        try:
            if run():
                return
            log.warning("%s: stopped unexpectedly; starting again once Redis and the database answer", what)
        except StopRequested:
            return
        except OUTAGES as error:
            if stop_requested():
                log.warning("%s: stopping as asked (an outage cut the last job short: %s)", what,
                            type(error).__name__)
                return
            log.warning("%s: interrupted by an outage (%s: %s); starting again once it is over",
                        what, type(error).__name__, error)
        if time.monotonic() - started >= HEALTHY_RUN_SECONDS:
            wait = FIRST_WAIT_SECONDS
        try:
            time.sleep(wait)  # never a hot loop, even when the services answer but the loop keeps stopping
            wait_for_services(what, database=database, first_wait=wait)
        except (StopRequested, KeyboardInterrupt):
            return
        wait = min(wait * 2, LONGEST_WAIT_SECONDS)


def requeue_interrupted(job: Job) -> bool:
    """Queue again a job an outage interrupted, unless it got to an end (or a retry) meanwhile.

    The job object in memory carries everything to enqueue it, so this works
    even when Redis came back without its data.

    Returns:
        Whether it was queued again.
    """
    try:
        status = job.get_status(refresh=True)
    except Exception:  # noqa: BLE001 - the job's hash is gone with Redis's data: queue it from memory
        status = None
    if status not in (None, JobStatus.STARTED):
        return False
    job_queue().enqueue_job(job)
    log.warning("worker: queued job %s again after the outage that interrupted it", job.id)
    return True
