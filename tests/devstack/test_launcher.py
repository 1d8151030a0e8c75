"""The launcher supervises: a process that dies is started again, after a wait that grows while it keeps dying;
and it prints its banner again once the web process answers."""

import http.server
import subprocess
import sys
import threading

from devstack.launcher import Supervised, announce_when_up, metrics_folder, stop_all
from devstack.localredis import free_port
from devstack.processes import live_groups
from tests.factories import wait_for


def sleeper() -> subprocess.Popen:
    """A child that would run for a minute."""
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)


def test_a_dead_process_is_started_again_with_a_growing_wait():
    """Killed twice, the process comes back each time (a new pid), and the second wait is longer."""
    process = Supervised("sleeper", sleeper, first_wait=0.1)
    try:
        first = process.child
        first.kill()
        first.wait()
        assert wait_for(lambda: (process.check(), process.child is not first)[1], timeout=10)
        assert process.child.poll() is None and process.wait == 0.2
        second = process.child
        second.kill()
        second.wait()
        assert wait_for(lambda: (process.check(), process.child is not second)[1], timeout=10)
        assert process.child.poll() is None and process.wait == 0.4
    finally:
        process.stop()
    assert process.child.poll() is not None


def test_stop_all_says_how_long_each_took_and_kills_what_stays():
    """A child that leaves on SIGTERM reports its seconds; one that ignores it, and its own child, are killed
    at the deadline and reported as None; no process of either group is left."""
    polite = sleeper()
    stubborn = subprocess.Popen([sys.executable, "-c", "import signal, subprocess, sys, time; "
                                 "signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                                 "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
                                 "print('ready', flush=True); time.sleep(60)"],
                                start_new_session=True, stdout=subprocess.PIPE, text=True)
    assert stubborn.stdout.readline() == "ready\n"
    took = stop_all([polite, stubborn], timeout=1.5)
    stubborn.stdout.close()
    assert took[0] is not None and took[0] < 1.5 and took[1] is None
    assert not {polite.pid, stubborn.pid} & live_groups()


def test_a_live_process_is_left_alone():
    """Checking a running process changes nothing."""
    process = Supervised("sleeper", sleeper, first_wait=0.1)
    try:
        child = process.child
        for _ in range(3):
            process.check()
        assert process.child is child and child.poll() is None
    finally:
        process.stop()


def test_metrics_folder_is_emptied_of_prometheus_files_only(tmp_path):
    """The launcher points processes at the metrics folder and empties it of prometheus_client's files,
    leaving anything else there (the folder may be shared, e.g. with the SQLite database)."""
    for name in ("counter_12.db", "histogram_7.db", "gauge_livesum_3.db", "switchboard.db"):
        (tmp_path / name).write_text("x")
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    assert metrics_folder(env) == str(tmp_path)
    assert [path.name for path in tmp_path.iterdir()] == ["switchboard.db"]


def test_metrics_folder_defaults_to_the_instance_folder():
    """Without PROMETHEUS_MULTIPROC_DIR the launcher sets it to instance/prometheus."""
    env = {}
    folder = metrics_folder(env)
    assert env["PROMETHEUS_MULTIPROC_DIR"] == folder and folder.endswith("instance/prometheus")


class Healthy(http.server.BaseHTTPRequestHandler):
    """A web process that answers /healthz."""

    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(200 if self.path == "/healthz" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_the_banner_is_printed_again_once_the_web_process_answers(capsys):
    """The banner (URL, sign-in, token, secrets) comes again after the processes' start-up lines, once /healthz
    answers; if it never does, a line says so instead."""
    server = http.server.HTTPServer(("127.0.0.1", 0), Healthy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        announce_when_up(f"http://127.0.0.1:{server.server_port}", "Switchboard is running\ntoken: abc", timeout=10)
    finally:
        server.shutdown()
        server.server_close()
    assert capsys.readouterr().out == "\nSwitchboard is running\ntoken: abc\n"
    announce_when_up(f"http://127.0.0.1:{free_port()}", "Switchboard is running", timeout=0.5)
    printed = capsys.readouterr().out
    assert "Switchboard is running" not in printed and "not answering" in printed
