"""`flask worker|scheduler|sweep`: the background processes and a sweep by hand."""

import gc

import click
from flask import current_app
from flask.cli import with_appcontext

from workspace.extensions import db
from workspace.infra.broker import job_queue, redis_client
from workspace.jobs import outages, schedule
from workspace.jobs.tasks import periodic
from workspace.jobs.worker import AppWorker
from workspace.observability import logs
from workspace.services.triage.classifier import current_model


@click.command("sweep")
@with_appcontext
def sweep():
    """Re-enqueue spooled mail and routing work older than the grace period (also runs periodically)."""
    count = periodic.sweep()
    click.echo(f"re-enqueued {count}")


@click.command("worker")
@with_appcontext
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker(burst: bool):
    """Run an RQ worker that routes conversations (loads the app and model once); it rides out
    Redis and database outages, and queues again a job one interrupted."""
    logs.configure(json_lines=current_app.config["LOG_FORMAT"] == "json")
    outages.wait_for_services("worker")  # a worker started during an outage waits for its end
    current_model()  # load the model before the first job, once for the whole process
    db.session.remove()
    # The app and model live as long as the process: kept out of the garbage collector's sight, they cost no
    # collection, least of all the one at exit, which took about 4 s of a stop on a busy 2-core machine.
    gc.freeze()
    interrupted, stopping = [], []

    def run() -> bool:
        while interrupted:
            outages.requeue_interrupted(interrupted[0])
            interrupted.pop(0)
        process = AppWorker([job_queue()], connection=redis_client())
        try:
            # The scheduler runs retries that wait (delivery and escalation backoff); without it they never run.
            process.work(burst=burst, with_scheduler=True)
        finally:
            if process.interrupted is not None:
                interrupted.append(process.interrupted)
            if process.stopping:
                stopping.append(True)
        return burst or process.stopping

    outages.keep_running(run, "worker", stop_requested=lambda: bool(stopping))


@click.command("scheduler")
@with_appcontext
def scheduler():
    """Run the periodic jobs (the sweeper, the SLA watcher, assignment catch-up, waking snoozed conversations,
    spike detection) on RQ's cron scheduler; it rides out Redis outages."""
    logs.configure(json_lines=current_app.config["LOG_FORMAT"] == "json")
    gc.freeze()  # as the worker's: the app stays for the process's life; no collection of it at exit

    def run() -> bool:
        schedule.scheduler().start()  # returns when asked to stop; an outage raises
        return True

    outages.keep_running(run, "scheduler", database=False)
