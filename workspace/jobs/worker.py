"""The RQ worker Switchboard runs: non-forking, inside one app context."""

import logging
import time

from flask import current_app
from redis.exceptions import RedisError
from rq import SimpleWorker
from rq.job import Job

from workspace.extensions import db
from workspace.live import trace

log = logging.getLogger("switchboard.job")


class AppWorker(SimpleWorker):
    """Runs jobs in this process, so the app and the classifier load once.

    RQ's default worker forks per job, which measured 4-50 trivial jobs/s here
    (0.4/s when each job loaded the model); this one does not fork. It
    remembers a job an outage broke off (`interrupted`) so the command can
    queue it again, and whether a stop was asked for (`stopping`), which tells
    a requested stop from an outage.
    """

    interrupted: Job | None = None
    stopping: bool = False

    def execute_job(self, job, queue):
        """Run one job, log one line for it, then drop the database session so the next one starts fresh."""
        self.interrupted = job  # cleared only if RQ got to record how the job ended
        started = time.perf_counter()
        meta = job.meta or {}
        try:
            with trace.bound(job_id=job.id, request_id=meta.get("request_id"), request_ids=meta.get("request_ids")):
                result = super().execute_job(job, queue)
        finally:
            db.session.remove()
        self.interrupted = None
        log_job(job, time.perf_counter() - started)
        return result

    def request_stop(self, signum, frame):
        """Note that a stop was asked for (Ctrl-C, SIGTERM), then let RQ stop as usual."""
        self.stopping = True
        return super().request_stop(signum, frame)

    def teardown(self):
        """Tear down as RQ does; when Redis is gone, still stop the pubsub thread (it would retry forever)."""
        try:
            super().teardown()
        except RedisError:
            if self.pubsub_thread:
                self.pubsub_thread.stop()
                self.pubsub_thread.join(timeout=3)
                self.pubsub.close()
            raise


def log_job(job: Job, seconds: float) -> None:
    """Log one line for a job run: its id, function, arguments (a routing job's conversation ids), outcome,
    and the request behind it (`request_id`), or for a routing job each request that stored one of its
    conversations (`request_ids`, distinct)."""
    status = getattr(job.get_status(refresh=False), "value", None)  # an RQ JobStatus (a str enum), or None
    meta = job.meta or {}
    origins = {"request_id": meta["request_id"]} if meta.get("request_id") else {}
    if meta.get("request_ids"):
        origins["request_ids"] = sorted(set(meta["request_ids"].values()))
    # Text lines are read by a person at a terminal (./bin/run): a routine success is a debug line there, so the
    # periodic jobs do not bury the banner; JSON lines feed a log pipeline, which wants every job.
    routine = logging.INFO if current_app.config.get("LOG_FORMAT") == "json" else logging.DEBUG
    log.log(logging.WARNING if status == "failed" else routine, "%s %s %s", job.func_name, job.id, status,
            extra={"job_id": job.id, "function": job.func_name, "job_args": job.args, "status": status,
                   "duration_ms": round(seconds * 1000, 2), **origins})
