"""Enqueueing a bulk action's jobs (run and undo): explicit ids, timeouts and retries."""

from rq import Retry

from ...broker import job_queue

RUN_JOB = "macros.jobs.run_bulk"
UNDO_JOB = "macros.jobs.undo_bulk"
# A batch of 10,000 conversations takes seconds; this bounds a stuck job.
JOB_TIMEOUT = 1800
JOB_RETRY = Retry(max=3, interval=[5, 30, 120])


def enqueue_job(job: str, bulk_id: int, what: str) -> None:
    """Enqueue a bulk action's run or undo job; its id names the bulk action, so it is queued once."""
    job_queue().enqueue_call(job, args=(bulk_id,), job_id=f"bulk-{what}-{bulk_id}", timeout=JOB_TIMEOUT,
                             retry=JOB_RETRY, result_ttl=3600, failure_ttl=7 * 86400)
