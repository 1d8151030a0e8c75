"""The event-loop heartbeat: it notices a loop held by code, logs it, and runs only where gevent serves."""

import json
import logging
import subprocess
import sys
import textwrap
import time

import gevent

from tests.factories import ROOT
from workspace.observability import stalls


def test_a_held_loop_is_seen_as_a_stall_and_logged(caplog):
    """Code that does not yield for 80 ms shows as a stall at least that long, with the CPU time it ran, in the log."""
    heartbeat = stalls.Heartbeat(log_above=0.05).start()
    try:
        gevent.sleep(0.02)  # the heartbeat ticks on an idle loop
        with caplog.at_level(logging.WARNING, logger="switchboard.stalls"):
            deadline = time.perf_counter() + 0.08
            while time.perf_counter() < deadline:  # busy: holds the loop, as a long query or render does
                pass
            gevent.sleep(0.02)
    finally:
        heartbeat.stop()
    assert heartbeat.longest >= 0.07
    [record] = [r for r in caplog.records if r.name == "switchboard.stalls"]
    assert record.stall_ms >= 70 and record.held_ms > 0 and "event loop stalled" in record.getMessage()


def test_short_stalls_are_not_logged(caplog):
    """A stall under the threshold is counted but not logged."""
    heartbeat = stalls.Heartbeat(log_above=10.0)
    with caplog.at_level(logging.WARNING, logger="switchboard.stalls"):
        heartbeat.record(0.2, 0.2)
        heartbeat.record(0.001, 0.001)  # jitter: not even counted
    assert heartbeat.longest == 0.2 and not caplog.records


def test_no_heartbeat_without_a_gevent_loop(app, client):
    """Under the test client (no monkey patching) a request starts no heartbeat."""
    assert client.get("/ping").status_code == 200
    assert "stall_heartbeat" not in app.extensions


def test_the_web_process_watches_its_loop_when_gevent_serves(tmp_path):
    """Patched by gevent, as gunicorn's worker is, the app starts its heartbeat at the first request and logs
    a request-sized stall."""
    script = textwrap.dedent(f"""
        from gevent import monkey
        monkey.patch_all()
        import json, logging, time, gevent
        from workspace import create_app
        from tests.factories import make_config
        logging.basicConfig(level=logging.WARNING, format="%(message)s")
        app = create_app(make_config(SQLALCHEMY_DATABASE_URI="sqlite:///{tmp_path}/s.db", STALL_LOG_MS=50))
        app.test_client().get("/ping")
        heartbeat = app.extensions["stall_heartbeat"]
        gevent.sleep(0.02)
        monkey.get_original("time", "sleep")(0.15)  # a blocking call gevent did not patch: the loop is held
        gevent.sleep(0.02)
        print(json.dumps({{"longest": heartbeat.longest}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["longest"] >= 0.14
    assert "event loop stalled" in done.stderr
