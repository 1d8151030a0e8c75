"""Observability: Prometheus instruments the code updates, and the figures read when /metrics is scraped.

`instruments` holds the counters and histograms (per process, or shared
through PROMETHEUS_MULTIPROC_DIR by every web process and worker);
`scrape` reads the live figures (outbox, RQ, SLA) at scrape time and renders
the exposition; `logs` formats log lines (JSON or text) and writes the
per-request and per-job ones; `stalls` watches the web process's event loop.
"""

from flask import Flask

from workspace.observability import instruments, logs, stalls


def init_app(app: Flask) -> None:
    """Subscribe the instruments to the signals they count, watch the event loop, and in JSON mode log requests."""
    instruments.init_app(app)
    logs.init_app(app)
    stalls.init_app(app)
