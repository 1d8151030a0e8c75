"""`flask worker|scheduler|sweep`: the background processes and a sweep by hand."""

import logging

import click
from flask import current_app
from flask.cli import with_appcontext

from workspace.extensions import db
from workspace.infra.broker import job_queue, redis_client
from workspace.jobs import dispatch, schedule
from workspace.jobs.worker import AppWorker
from workspace.services.triage.classifier import current_model


@click.command("sweep")
@with_appcontext
def sweep():
    """Re-enqueue routing work older than the grace period (also runs periodically)."""
    count = dispatch.sweep(current_app.config["SWEEP_GRACE_SECONDS"])
    click.echo(f"re-enqueued {count}")


@click.command("worker")
@with_appcontext
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker(burst: bool):
    """Run an RQ worker that routes conversations (loads the app and model once)."""
    logging.basicConfig(level=logging.INFO)
    current_model()  # load the model before the first job, once for the whole process
    db.session.remove()
    # The scheduler runs retries that wait (delivery and escalation backoff); without it they never run.
    AppWorker([job_queue()], connection=redis_client()).work(burst=burst, with_scheduler=True)


@click.command("scheduler")
@with_appcontext
def scheduler():
    """Run the periodic jobs (the sweeper, the SLA watcher, assignment catch-up, waking snoozed conversations,
    spike detection) on RQ's cron scheduler."""
    schedule.scheduler().start()
