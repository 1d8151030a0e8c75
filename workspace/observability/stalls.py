"""The event-loop stall monitor: a heartbeat greenlet that notices when the web process's loop was held.

The web process runs gevent: one thread, every request a greenlet, and a
greenlet that does not yield (a long SQLite query, a big JSON render, a
CPU-bound loop) holds every other request and socket of the process. The
heartbeat sleeps a short tick and measures how late it woke: the lateness is
the longest run without a yield in that tick. Each stall over the log
threshold is logged (`event loop stalled`, with its milliseconds) and every
stall over a few milliseconds is observed in a histogram, so /metrics and a
benchmark reading the log can both tell the longest stall of a period.

A late wake-up has two causes: code of this process held the loop, or the
machine gave the process no CPU (a busy host). The log line tells them apart:
it also says how much CPU time the loop's thread used during the late tick,
the part that code of this process held.

Started once per process, at its first request, and only where gevent has
patched the standard library (the gunicorn gevent worker): under the Flask
development server or in tests there is no loop to watch.
"""

import logging
import time

import gevent
from flask import Flask, current_app
from gevent import monkey
from prometheus_client import Gauge, Histogram

log = logging.getLogger("switchboard.stalls")

# How often the heartbeat wakes; a stall shorter than this is not seen at all.
TICK_SECONDS = 0.005
# Stalls shorter than this are the loop's ordinary jitter: not observed.
NOTICED_SECONDS = 0.005

STALL_SECONDS = Histogram(
    "switchboard_event_loop_stall_seconds", "Event-loop stalls of the web process (heartbeat lateness over 5 ms).",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
LONGEST_STALL = Gauge(
    "switchboard_event_loop_stall_max_seconds", "The longest event-loop stall since the web process started.",
    multiprocess_mode="max")


class Heartbeat:
    """Measures the loop's lateness each tick; `longest` is the longest stall seen so far (seconds)."""

    def __init__(self, log_above: float, tick: float = TICK_SECONDS):
        self.log_above = log_above
        self.tick = tick
        self.longest = 0.0
        self.greenlet = None

    def record(self, stalled: float, held: float | None = None) -> None:
        """Count one measured lateness (and the CPU time the loop's thread used meanwhile, when known)."""
        if stalled < NOTICED_SECONDS:
            return
        STALL_SECONDS.observe(stalled)
        if stalled > self.longest:
            self.longest = stalled
            LONGEST_STALL.set(stalled)
        if stalled >= self.log_above:
            held_ms = None if held is None else round(max(0.0, held) * 1000, 1)
            log.warning("event loop stalled %.1f ms (running code %s ms)", stalled * 1000, held_ms,
                        extra={"stall_ms": round(stalled * 1000, 1), "held_ms": held_ms})

    def run(self) -> None:
        """Sleep a tick, measure how late the wake-up was and the CPU time used meanwhile, forever."""
        while True:
            started, cpu = time.perf_counter(), time.thread_time()
            gevent.sleep(self.tick)
            self.record(time.perf_counter() - started - self.tick, time.thread_time() - cpu)

    def start(self) -> "Heartbeat":
        """Start the heartbeat greenlet (once)."""
        if self.greenlet is None:
            self.greenlet = gevent.spawn(self.run)
        return self

    def stop(self) -> None:
        """Stop the heartbeat greenlet."""
        if self.greenlet is not None:
            self.greenlet.kill()
            self.greenlet = None


def _start_once() -> None:
    """Start this process's heartbeat at its first request, if it runs on a gevent loop."""
    app = current_app._get_current_object()
    if "stall_heartbeat" in app.extensions or not monkey.is_module_patched("socket"):
        return
    app.extensions["stall_heartbeat"] = Heartbeat(app.config["STALL_LOG_MS"] / 1000).start()


def init_app(app: Flask) -> None:
    """Watch the event loop of the process serving this app (see the module's docstring)."""
    if app.config.get("STALL_MONITOR"):
        app.before_request(_start_once)
