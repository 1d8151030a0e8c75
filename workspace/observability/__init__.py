"""Observability: Prometheus instruments the code updates, and the figures read when /metrics is scraped.

`instruments` holds the counters and histograms (per process, or shared
through PROMETHEUS_MULTIPROC_DIR by every web process and worker);
`scrape` reads the live figures (outbox, RQ, SLA) at scrape time and renders
the exposition.
"""

from flask import Flask

from workspace.observability import instruments


def init_app(app: Flask) -> None:
    """Subscribe the instruments to the signals they count (once per process; connecting is idempotent)."""
    instruments.init_app(app)
