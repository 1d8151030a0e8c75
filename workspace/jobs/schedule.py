"""The periodic jobs: one table of what runs how often, registered on RQ's cron scheduler."""

from flask import current_app
from rq.cron import CronScheduler

from workspace.infra.broker import redis_client
from workspace.jobs.tasks import periodic

# A periodic run that takes longer than this is stuck.
PERIODIC_TIMEOUT = 300
# job -> the config key of its interval in seconds, or the interval itself.
SCHEDULE = {
    periodic.sweep: "SWEEP_INTERVAL_SECONDS",
    periodic.wake_snoozed: 60,
    periodic.check_slas: "SLA_CHECK_INTERVAL_SECONDS",
    periodic.assignment_tick: "ASSIGNMENT_INTERVAL_SECONDS",
    periodic.detect_spikes: "SPIKE_INTERVAL_SECONDS",
}


def scheduler() -> CronScheduler:
    """Return RQ's cron scheduler with every periodic job registered (call `start()` to run it)."""
    config = current_app.config
    cron = CronScheduler(connection=redis_client())
    for job, interval in SCHEDULE.items():
        seconds = config[interval] if isinstance(interval, str) else interval
        cron.register(job, queue_name=config["RQ_QUEUE"], interval=seconds, job_timeout=PERIODIC_TIMEOUT)
    return cron
