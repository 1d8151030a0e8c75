"""Two schedulers started by mistake (the Procfile's `flask scheduler`, twice, on one Redis): each periodic
job is still enqueued once per period, and when one scheduler dies the other carries on alone."""

import time

import pytest
from rq import Queue

from devstack.launcher import start_process, stop_process
from tests.factories import process_env, wait_for
from workspace.jobs import schedule

# Every interval-configured periodic job runs each second here (wake_snoozed keeps its fixed 60 s).
INTERVAL = 1
RUN_SECONDS = 6


def enqueued_times(redis, queue_name: str) -> dict[str, list[float]]:
    """When each periodic function was enqueued, by function name (no worker runs, so all are still queued)."""
    times: dict[str, list[float]] = {}
    for job in Queue(queue_name, connection=redis).get_jobs():
        times.setdefault(job.func_name.rsplit(".", 1)[1], []).append(job.enqueued_at.timestamp())
    return {name: sorted(values) for name, values in times.items()}


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_two_schedulers_enqueue_each_periodic_job_once_per_period(app, redis, redis_url, tmp_path):
    """Both schedulers run at once, yet no periodic job is enqueued twice within one period; after one is
    stopped, the other still enqueues every job each period."""
    env = process_env(app, redis_url, tmp_path, **{f"SWITCHBOARD_{name}": str(INTERVAL) for name in (
        "SWEEP_INTERVAL_SECONDS", "SLA_CHECK_INTERVAL_SECONDS", "ASSIGNMENT_INTERVAL_SECONDS",
        "SPIKE_INTERVAL_SECONDS", "PEOPLE_INTERVAL_SECONDS",
        "PUSH_CHECK_INTERVAL_SECONDS",
        "AUTOMATION_INTERVAL_SECONDS", "REPORT_CHECK_INTERVAL_SECONDS")})
    queue_name = app.config["RQ_QUEUE"]
    logs = [open(tmp_path / f"scheduler{n}.log", "w") for n in (1, 2)]
    schedulers = [start_process("scheduler", env, stdout=log, stderr=log) for log in logs]
    try:
        # Start-up takes seconds on a busy machine: the run counts from the first enqueued job.
        assert wait_for(lambda: enqueued_times(redis, queue_name), timeout=120), "no scheduler started"
        time.sleep(RUN_SECONDS)
        assert all(process.poll() is None for process in schedulers), "a scheduler exited"
        both = enqueued_times(redis, queue_name)
        stop_process(schedulers[0])
        stopped_at = time.time()
        assert wait_for(lambda: all(max(times) > stopped_at + INTERVAL for name, times in
                                    enqueued_times(redis, queue_name).items() if name != "wake_snoozed"),
                        timeout=30), "the remaining scheduler did not carry on"
    finally:
        for process in schedulers:
            stop_process(process)
        for log in logs:
            log.close()
    assert set(both) == {job.__name__ for job in schedule.SCHEDULE}
    assert len(both["wake_snoozed"]) == 1  # its 60 s period has not come round again
    lifetime = INTERVAL * schedule.CLAIM_SHARE
    for name, times in enqueued_times(redis, queue_name).items():
        gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
        assert all(gap >= lifetime - 0.05 for gap in gaps), f"{name} was enqueued twice in one period: {gaps}"
    for name in ("sweep", "check_slas", "assignment_tick", "detect_spikes"):
        assert len(both[name]) >= 2, f"{name} ran {len(both[name])} time(s) in {RUN_SECONDS} s"
