"""The periodic jobs: one table of what runs how often, registered on RQ's cron scheduler.

One scheduler is meant to run, but two started by mistake (or a second one on
another host during a deploy) must not double the work: each periodic run is
claimed in Redis first (`SET ... NX` with a lifetime just under the job's
interval), and only the scheduler that got the claim enqueues it. The others
note the run as done and look again a period later, so a job runs once per
period whatever the number of schedulers, and carries on when one of them dies.
"""

from flask import current_app
from rq.cron import CronScheduler
from rq.utils import now

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
    periodic.propose_person_links: "PEOPLE_INTERVAL_SECONDS",
    periodic.notifications_tick: "PUSH_CHECK_INTERVAL_SECONDS",
    periodic.run_automations: "AUTOMATION_INTERVAL_SECONDS",
    periodic.alert_incidents: "SPIKE_INTERVAL_SECONDS",
    periodic.send_weekly_report: "REPORT_CHECK_INTERVAL_SECONDS",
}
# A claim lives this share of the interval: long enough that a second scheduler's next look finds it,
# short enough that the claimer's own next run (one interval later) never does.
CLAIM_SHARE = 0.9


def claim_key(queue_name: str, job_name: str) -> str:
    """The Redis key that holds the claim on a periodic job's current run."""
    return f"switchboard:periodic:{queue_name}:{job_name}"


class ClaimingCronScheduler(CronScheduler):
    """RQ's cron scheduler, enqueueing a due run only when it wins that run's claim in Redis."""

    def enqueue_jobs(self):
        """Enqueue the due jobs whose run this scheduler claimed; count the others as run elsewhere."""
        enqueued = []
        for job in self._cron_jobs:
            if not job.should_run():
                continue
            at = now()
            lifetime_ms = max(1, int(job.interval * 1000 * CLAIM_SHARE))
            if self.connection.set(claim_key(job.queue_name, job.name), self.name, nx=True, px=lifetime_ms):
                job.enqueue(self.connection)
                enqueued.append(job)
            job.set_enqueue_time(at)
        return enqueued


def scheduler() -> CronScheduler:
    """Return RQ's cron scheduler with every periodic job registered (call `start()` to run it)."""
    config = current_app.config
    cron = ClaimingCronScheduler(connection=redis_client())
    for job, interval in SCHEDULE.items():
        seconds = config[interval] if isinstance(interval, str) else interval
        cron.register(job, queue_name=config["RQ_QUEUE"], interval=seconds, job_timeout=PERIODIC_TIMEOUT)
    return cron
