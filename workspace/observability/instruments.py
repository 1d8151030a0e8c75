"""The counters and histograms Switchboard updates as it works.

Updating one is an in-memory (or, in multiprocess mode, memory-mapped file)
write: no Redis or database round-trip, so the webhook's hot path pays
microseconds. In multiprocess mode prometheus_client chose its value class
when it was imported, from PROMETHEUS_MULTIPROC_DIR (Config.METRICS_MULTIPROC_DIR
reads the same variable); the launcher sets it before any process starts.
"""

import os
import time
from collections.abc import Callable
from datetime import datetime

from flask import Flask
from prometheus_client import Counter, Gauge, Histogram

from workspace.config import Config
from workspace.live import signals
from workspace.models import utcnow

# In multiprocess mode prometheus_client opens its files as the metrics below are defined (an unlabelled
# one at once), so the folder must exist before they are.
if Config.METRICS_MULTIPROC_DIR:
    os.makedirs(Config.METRICS_MULTIPROC_DIR, exist_ok=True)

# A channel label for requests naming no known channel: unknown slugs must not grow the label set.
UNKNOWN_CHANNEL = "unknown"

WEBHOOK_RESPONSES = Counter(
    "switchboard_webhook_responses", "Webhook POSTs answered, by channel slug and HTTP status.",
    ["channel", "status"])
# Webhook request start to the commit of its posts: group commit waits, so the buckets start small.
INGEST_SECONDS = Histogram(
    "switchboard_ingest_seconds", "Webhook request start to its posts' commit (stored deliveries only).",
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
ROUTING_JOB_SECONDS = Histogram(
    "switchboard_routing_job_seconds", "Duration of one routing job (a batch of conversations).",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
# Stored post to routed conversation: outbox, dispatcher, RQ and the job together; minutes when Redis was down.
ROUTING_LATENCY_SECONDS = Histogram(
    "switchboard_routing_latency_seconds", "A post's storing to its conversation being routed.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800))
DELIVERY_FAILURES = Counter(
    "switchboard_delivery_failures", "Failed reply delivery attempts: 'failed' for good, 'error' to be retried.",
    ["outcome"])
# Kept by the socket handlers as clients come and go; "livesum" adds up the live processes' figures and drops a
# dead process's, so a killed web process does not leave its clients counted forever.
SOCKETIO_CLIENTS = Gauge(
    "switchboard_socketio_clients", "Authenticated Socket.IO connections (consoles and dashboards) open now.",
    multiprocess_mode="livesum")
ESCALATION_FAILURES = Counter(
    "switchboard_escalation_failures", "Failed attempts to create an escalation's ticket (each one is retried).")


def count_webhook(channel: str | None, status: int) -> None:
    """Count one webhook answer (the label set is bounded by the configured channels)."""
    WEBHOOK_RESPONSES.labels(channel or UNKNOWN_CHANNEL, str(status)).inc()


def socket_connected() -> None:
    """Count an accepted Socket.IO connection."""
    SOCKETIO_CLIENTS.inc()


def socket_disconnected() -> None:
    """Count a closed Socket.IO connection (one that was accepted)."""
    SOCKETIO_CLIENTS.dec()


def observe_ingest(started: float) -> None:
    """Record the time from a webhook's start (a `time.perf_counter()` reading) to its commit."""
    INGEST_SECONDS.observe(time.perf_counter() - started)


def timed_routing(job: Callable[..., dict], *args) -> dict:
    """Run a routing job and record its duration, whether it returns or raises."""
    with ROUTING_JOB_SECONDS.time():
        return job(*args)


def counted_delivery(job: Callable[..., str | dict], *args) -> str | dict:
    """Run a delivery job, counting replies that failed for good and attempts that raised."""
    try:
        result = job(*args)
    except Exception:
        DELIVERY_FAILURES.labels("error").inc()
        raise
    failed = result == "failed" if isinstance(result, str) else result.get("failed", 0)
    if failed:
        DELIVERY_FAILURES.labels("failed").inc(int(failed))
    return result


def counted_escalation(job: Callable[..., str], *args) -> str:
    """Run a ticket-creating job, counting the attempts that raised (RQ retries them)."""
    try:
        return job(*args)
    except Exception:
        ESCALATION_FAILURES.inc()
        raise


def _routed(sender, ids: list[int], stored_at: list[datetime] | None = None, **extra) -> None:
    """Record each routed conversation's wait since its newest post was stored."""
    now = utcnow()
    for moment in stored_at or ():
        ROUTING_LATENCY_SECONDS.observe(max(0.0, (now - moment).total_seconds()))


def init_app(app: Flask) -> None:
    """Connect the receivers that observe what other packages announce."""
    signals.conversations_routed.connect(_routed)
