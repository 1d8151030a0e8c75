"""Scale: the same load on one web process and one worker, then on two of each behind nginx, on PostgreSQL.

Each topology is started by the launcher as `./bin/run` starts it (`--no-demo --database URL`, and
`--scale web=2,worker=2` for the second, which puts nginx in front), on a fresh schema, and measured alike:

- live: signed webhooks paced at --rate to N consoles (websockets; behind nginx they are spread over
  both web processes): webhook 202 -> `conversation.created` in every console, p50/p99/max, lost;
- throughput: signed webhooks as fast as a closed loop of keep-alive senders gets them answered, 202/s;
- slow clients (behind nginx only): --slow connections that each announce `Content-Length: 900000`,
  send one byte and wait (reopened whenever nginx drops one); /ping and a signed webhook are timed
  (p50/p99/max over --probes each) before them (the baseline) and while they are held;
- stop: SIGTERM to the launcher with the consoles still connected; seconds until every process is gone.

Usage: .venv/bin/python bench/scale.py --database postgresql://postgres@localhost:5432/bench
           [--consoles 50] [--rate 200] [--seconds 20] [--throughput-seconds 10] [--slow 2000] [--probes 50]
           [--nginx-only]
"""

import argparse
import json
import multiprocessing
import os
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench.consoles import run_consoles  # noqa: E402
from bench.http_load import build_request, run_load  # noqa: E402
from bench.live import DRAIN_SECONDS, SECRET, percentile, populate, print_stages, report, webhook_phase  # noqa: E402
from bench.stack import process_environment, redis_for  # noqa: E402
from devstack import nginx  # noqa: E402
from devstack.launcher import wait_healthy  # noqa: E402
from devstack.localredis import free_port_run  # noqa: E402
from devstack.processes import alive, descendants  # noqa: E402
from workspace.channels.signature import sign  # noqa: E402

TOPOLOGIES = {"one web + one worker": [], "two + two behind nginx": ["--scale", "web=2,worker=2"]}
# What a slow client announces, and sends of it.
SLOW_LENGTH = 900_000


def fresh_schema(url: str) -> None:
    """Drop every table (and Alembic's record), so the launcher migrates an empty database."""
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    metadata.reflect(engine)
    metadata.drop_all(engine)
    engine.dispose()


def signed(number: int, tag: str) -> tuple[bytes, dict]:
    """A signed native post (one customer each) and its headers."""
    body = json.dumps({"id": f"{tag}-{number}", "author": {"id": f"{tag}-u{number}", "handle": f"u{number}"},
                       "text": f"@billing scale post {number}"}).encode()
    return body, {"Content-Type": "application/json", "X-Switchboard-Signature": sign(SECRET, body)}


def throughput(port: int, seconds: float) -> float:
    """Webhooks answered 202 per second by a closed loop of keep-alive senders."""
    tag = uuid.uuid4().hex[:6]
    rendered = [build_request("POST", "/webhooks/forum", *signed(n, tag)) for n in range(int(seconds * 3000))]
    result = run_load(port, rendered, seconds)
    return result["statuses"].get(202, 0) / result["seconds"]


def probe(base: str, count: int) -> dict[str, list[float]]:
    """Time `count` GET /ping and `count` signed webhooks, one at a time, each on a new connection."""
    times: dict[str, list[float]] = {"ping": [], "webhook": []}
    tag = uuid.uuid4().hex[:6]
    for number in range(count):
        started = time.perf_counter()
        requests.get(f"{base}/ping", timeout=30)
        times["ping"].append(time.perf_counter() - started)
        body, headers = signed(number, tag)
        started = time.perf_counter()
        answer = requests.post(f"{base}/webhooks/forum", data=body, headers=headers, timeout=30)
        times["webhook"].append(time.perf_counter() - started)
        assert answer.status_code == 202, answer.text
    return times


def summary(values: list[float]) -> str:
    """p50 / p99 / max in milliseconds."""
    return (f"p50 {statistics.median(values) * 1000:5.1f}  p99 {percentile(values, 0.99) * 1000:6.1f}  "
            f"max {max(values) * 1000:6.1f} ms")


class SlowClients:
    """Keep `count` slow uploads open against a port: each announces SLOW_LENGTH bytes and sends one; one that
    the server drops (nginx's client_body_timeout) is opened again, as a determined attacker would."""

    def __init__(self, port: int, count: int):
        self.port, self.count = port, count
        self.head = (f"POST /webhooks/forum HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {SLOW_LENGTH}\r\n\r\n{{").encode()
        self.selector = selectors.DefaultSelector()
        self.dropped = 0
        self.fewest = count
        self.stopping = threading.Event()
        for _ in range(count):
            self.open()
        self.thread = threading.Thread(target=self.hold, daemon=True)
        self.thread.start()

    def open(self) -> None:
        """Open one slow upload."""
        connection = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        connection.sendall(self.head)
        connection.setblocking(False)
        self.selector.register(connection, selectors.EVENT_READ)

    def hold(self) -> None:
        """Reopen what the server drops, noting how many were open at the worst moment."""
        while not self.stopping.is_set():
            closed = []
            for key, _ in self.selector.select(0.2):
                try:
                    if key.fileobj.recv(1 << 16) == b"":
                        closed.append(key.fileobj)
                except OSError:
                    closed.append(key.fileobj)
            for connection in closed:
                self.selector.unregister(connection)
                connection.close()
            self.dropped += len(closed)
            self.fewest = min(self.fewest, len(self.selector.get_map()))
            for _ in closed:
                self.open()

    def close(self) -> None:
        """Stop holding and close every connection."""
        self.stopping.set()
        self.thread.join()
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()


def slow_clients(port: int, count: int, probes: int) -> None:
    """Hold `count` slow uploads against nginx; time /ping and webhooks without and with them; print all."""
    base = f"http://127.0.0.1:{port}"
    baseline = probe(base, probes)
    opened = time.monotonic()
    held = SlowClients(port, count)
    print(f"  slow clients: {count} connections opened in {time.monotonic() - opened:.1f} s, each announcing "
          f"{SLOW_LENGTH} bytes and sending 1 (reopened when nginx drops them)", flush=True)
    loaded = probe(base, probes)
    held.close()
    for name in ("ping", "webhook"):
        print(f"  {name:8} alone:             {summary(baseline[name])}\n"
              f"  {name:8} with slow clients: {summary(loaded[name])}   (target p99 < 100 ms)", flush=True)
    print(f"  at least {held.fewest} of {count} slow connections open throughout; nginx dropped {held.dropped} "
          f"(client_body_timeout) and they were reopened", flush=True)


def run_topology(label: str, extra: list[str], args, workdir: str, redis_url: str) -> dict:
    """Start one topology with the launcher, measure it, stop it; return its figures."""
    fresh_schema(args.database)
    _, env = process_environment(workdir, "scale", args.database, redis_url)
    port = free_port_run(2 + 2)
    env.update(PORT=str(port), SWITCHBOARD_TICKETING_URL="http://127.0.0.1:9",
               PROMETHEUS_MULTIPROC_DIR=os.path.join(workdir, f"metrics-{port}"))
    log = open(os.path.join(workdir, f"launcher-{port}.log"), "w")
    launcher = subprocess.Popen([sys.executable, "-m", "devstack.launcher", "--no-demo", "--database", args.database,
                                 *extra], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    consoles = None
    figures: dict = {}
    print(f"{label}:", flush=True)
    try:
        if not wait_healthy(base, 240):
            sys.exit(f"{label} did not start (see {log.name})")
        token, _ = populate(args.database, redis_url)
        consoles = context.Process(target=run_consoles, args=(base, token, args.consoles, child), daemon=True)
        consoles.start()
        if not parent.poll(120) or parent.recv() != "ready":
            sys.exit("the consoles did not connect")
        sent, achieved = webhook_phase(base, uuid.uuid4().hex[:6], args.rate, args.seconds)
        parent.send(("expect", list(sent), DRAIN_SECONDS))
        arrivals = parent.recv()
        figures["live"] = report("webhooks", sent, arrivals, args.consoles, achieved, int(args.rate * args.seconds))
        print_stages(redis_url, env["SWITCHBOARD_RQ_QUEUE"], sent, arrivals)
        figures["throughput"] = throughput(port, args.throughput_seconds)
        print(f"  throughput: {figures['throughput']:.0f} webhooks/s answered 202", flush=True)
        if extra:
            slow_clients(port, args.slow, args.probes)
        family = descendants(launcher.pid)
        started = time.monotonic()
        launcher.send_signal(signal.SIGTERM)
        while any(alive(pid) for pid in family) and time.monotonic() - started < 60:
            time.sleep(0.02)
        figures["stop"] = time.monotonic() - started
        print(f"  stop: every process gone {figures['stop']:.1f} s after SIGTERM, {args.consoles} consoles connected "
              f"(target < 5 s)", flush=True)
    finally:
        if consoles is not None and consoles.is_alive():
            consoles.terminate()
        if launcher.poll() is None:
            launcher.send_signal(signal.SIGTERM)
        launcher.wait(timeout=60)
        log.close()
    return figures


def main() -> None:
    """Measure both topologies and print them side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="a PostgreSQL database the bench may empty (or BENCH_DATABASE_URL)")
    parser.add_argument("--consoles", type=int, default=50)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--throughput-seconds", type=float, default=10.0)
    parser.add_argument("--slow", type=int, default=2000)
    parser.add_argument("--probes", type=int, default=50)
    parser.add_argument("--nginx-only", action="store_true", help="measure only the topology behind nginx")
    args = parser.parse_args()
    if not args.database:
        sys.exit("--database postgresql://... (a database this bench may empty) is required")
    if reason := nginx.missing():
        sys.exit(reason)
    workdir = tempfile.mkdtemp(prefix="switchboard-scale-")
    redis_process, redis_url = redis_for(workdir)
    print(f"{args.consoles} consoles, {args.rate:.0f} posts/s for {args.seconds:.0f} s; {os.cpu_count()} cores; "
          f"logs in {workdir}", flush=True)
    results = {}
    try:
        for label, extra in list(TOPOLOGIES.items())[-1 if args.nginx_only else 0:]:
            results[label] = run_topology(label, extra, args, workdir, redis_url)
    finally:
        if redis_process:
            redis_process.terminate()
    if len(results) < 2:
        return
    (one, two) = results.values()
    print("summary:                      one web + one worker    two + two behind nginx")
    print(f"  webhooks answered 202/s     {one['throughput']:10.0f}              {two['throughput']:10.0f}"
          f"   ({two['throughput'] / one['throughput']:.2f}x; goal >= 1.3x)")
    print(f"  webhook -> console p99 ms   {one['live']['p99']:10.0f}              {two['live']['p99']:10.0f}"
          f"   (goal <= 150 ms behind nginx)")
    print(f"  events lost                 {one['live']['lost']:10}              {two['live']['lost']:10}")
    print(f"  stop, s                     {one['stop']:10.1f}              {two['stop']:10.1f}   (goal < 5 s)")


if __name__ == "__main__":
    main()
