"""What /metrics renders: the instruments of every process, and live figures read at scrape time.

The live figures (outbox depth and age, RQ jobs per state and the oldest queued
job's age, SLA at-risk and breached counts) are read from the database and Redis when Prometheus asks,
with bounded queries: each count stops at COUNT_CAP, the outbox's oldest row
comes from its primary key, the SLA counts from the SLA-status index, and RQ's
figures from one pipeline of LLEN, ZCARD and LINDEX calls and one HGET of
the oldest job's enqueue time. Nothing is kept between
scrapes, so every process answers the same figures.
"""

import logging

import sqlalchemy as sa
from flask import current_app
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from redis.exceptions import RedisError
from rq.job import Job
from rq.utils import str_to_date
from sqlalchemy.exc import SQLAlchemyError

from workspace.extensions import db
from workspace.infra.broker import job_queue, redis_client
from workspace.models import Conversation, OutboxEntry, utcnow

log = logging.getLogger(__name__)

# A count stops here, so a scrape stays cheap even when a backlog is huge (the figure then reads "at least").
COUNT_CAP = 100_000
# The SLA engine's states that count as trouble (Conversation.sla_status).
SLA_STATES = ("at_risk", "breached")


def capped_count(query: sa.Select) -> int:
    """Count the rows of a query, stopping at COUNT_CAP."""
    limited = query.limit(COUNT_CAP).subquery()
    return db.session.scalar(sa.select(sa.func.count()).select_from(limited))


class LiveFigures:
    """A collector of the figures read at scrape time, from the current app's database and Redis."""

    def collect(self):
        """Yield the outbox, SLA and RQ gauges, and whether each source answered."""
        up = GaugeMetricFamily("switchboard_metrics_source_up", "Whether a source of live figures answered "
                               "this scrape (1) or not (0).", labels=["source"])
        try:
            yield from self._database()
            up.add_metric(["database"], 1)
        except SQLAlchemyError as error:  # one line, not a traceback per scrape during an outage
            log.warning("metrics: the database did not answer (%s)", type(error).__name__)
            up.add_metric(["database"], 0)
        finally:
            db.session.rollback()
        try:
            yield from self._rq()
            up.add_metric(["redis"], 1)
        except RedisError as error:
            log.warning("metrics: Redis did not answer (%s)", type(error).__name__)
            up.add_metric(["redis"], 0)
        yield up

    def _database(self):
        """The outbox's depth and oldest row's age, and open conversations at risk or breached."""
        table = OutboxEntry.__table__
        depth = capped_count(sa.select(table.c.id))
        oldest = db.session.scalar(sa.select(table.c.created_at).order_by(table.c.id).limit(1))
        sla = GaugeMetricFamily("switchboard_sla_conversations", "Open conversations whose SLA is at risk or "
                                f"breached (counted up to {COUNT_CAP}).", labels=["state"])
        for state in SLA_STATES:
            sla.add_metric([state], capped_count(sa.select(Conversation.id).where(
                Conversation.sla_status == state, Conversation.status == "open")))
        yield GaugeMetricFamily("switchboard_outbox_depth", "Conversations waiting in the outbox to be handed "
                                f"to RQ (counted up to {COUNT_CAP}).", value=depth)
        age = (utcnow() - oldest).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily("switchboard_outbox_oldest_age_seconds", "Age of the oldest outbox row "
                                "(0 when empty).", value=max(0.0, age))
        yield sla

    def _rq(self) -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        """Jobs of the app's RQ queue per state, and the oldest queued job's age, in two Redis round-trips."""
        queue = job_queue()
        registries = {"started": queue.started_job_registry, "scheduled": queue.scheduled_job_registry,
                      "deferred": queue.deferred_job_registry, "failed": queue.failed_job_registry}
        connection = redis_client()
        pipe = connection.pipeline(transaction=False)
        pipe.llen(queue.key)
        for registry in registries.values():
            pipe.zcard(registry.key)
        pipe.lindex(queue.key, 0)  # the job waiting longest (RQ appends, workers pop from the left)
        *counts, oldest = pipe.execute()
        family = GaugeMetricFamily("switchboard_rq_jobs", "Jobs of an RQ queue by state (queued: waiting for a "
                                   "worker).", labels=["queue", "state"])
        for state, count in zip(("queued", *registries), counts, strict=True):
            family.add_metric([queue.name, state], count)
        age = GaugeMetricFamily("switchboard_rq_oldest_queued_age_seconds", "How long the job waiting longest in "
                                "an RQ queue has waited (0 when none waits).", labels=["queue"])
        enqueued_at = connection.hget(Job.key_for(oldest.decode()), "enqueued_at") if oldest else None
        waited = (utcnow() - str_to_date(enqueued_at)).total_seconds() if enqueued_at else 0.0
        age.add_metric([queue.name], max(0.0, waited))
        return family, age


class _Scrape:
    """Everything one scrape renders: the instruments' collector followed by the live figures."""

    def __init__(self, instruments):
        self.instruments = instruments

    def collect(self):
        """Yield every metric family of this scrape."""
        yield from self.instruments.collect()
        yield from LiveFigures().collect()


def render() -> bytes:
    """Render the Prometheus text exposition for this scrape (needs an app context).

    With METRICS_MULTIPROC_DIR the instruments are summed over every process's
    files there; without it, this process's own registry is read.
    """
    folder = current_app.config.get("METRICS_MULTIPROC_DIR")
    if folder:
        instruments = CollectorRegistry()
        multiprocess.MultiProcessCollector(instruments, path=folder)
    else:
        instruments = REGISTRY
    return generate_latest(_Scrape(instruments))
