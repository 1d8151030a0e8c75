"""Scale: the same load on one web process and one worker, then on two of each behind nginx, on PostgreSQL.

Each topology is started by the launcher as `./bin/run` starts it (`--no-demo --database URL`, and
`--scale web=2,worker=2` for the second, which puts nginx in front), on a fresh schema, and measured alike:

- live: signed webhooks paced at --rate to N consoles (websockets; behind nginx they are spread over
  both web processes): webhook 202 -> `conversation.created` in every console, p50/p99/max, lost;
- throughput: signed webhooks as fast as a closed loop of keep-alive senders gets them answered, 202/s;
- slow clients (behind nginx only): --slow connections that each announce `Content-Length: 900000`,
  send one byte and wait; /ping and a signed webhook are timed (p50/p99/max over --probes each) before
  them (the baseline) and while they are held, and how long nginx takes to drop them is shown;
- stop: SIGTERM to the launcher with the consoles still connected; seconds until every process is gone.

Usage: .venv/bin/python bench/scale.py --database postgresql://postgres@localhost:5432/bench
           [--consoles 50] [--rate 200] [--seconds 20] [--throughput-seconds 10] [--slow 2000] [--probes 50]
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
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench.consoles import run_consoles  # noqa: E402
from bench.http_load import build_request, run_load  # noqa: E402
from bench.live import DRAIN_SECONDS, SECRET, percentile, populate, report, webhook_phase  # noqa: E402
from bench.stack import process_environment, redis_for  # noqa: E402
from devstack import nginx  # noqa: E402
from devstack.launcher import alive, descendants, wait_healthy  # noqa: E402
from devstack.localredis import free_port_run  # noqa: E402
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


def slow_clients(port: int, count: int, probes: int) -> None:
    """Hold `count` slow uploads against nginx; time /ping and webhooks without and with them; print all."""
    base = f"http://127.0.0.1:{port}"
    baseline = probe(base, probes)
    held = []
    head = (f"POST /webhooks/forum HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {SLOW_LENGTH}\r\n\r\n{{").encode()
    opened = time.monotonic()
    for _ in range(count):
        connection = socket.create_connection(("127.0.0.1", port), timeout=10)
        connection.sendall(head)
        held.append(connection)
    print(f"  slow clients: {count} connections opened in {time.monotonic() - opened:.1f} s, each announcing "
          f"{SLOW_LENGTH} bytes and sending 1", flush=True)
    loaded = probe(base, probes)
    still = open_count(held)
    for name in ("ping", "webhook"):
        print(f"  {name:8} alone:           {summary(baseline[name])}\n"
              f"  {name:8} with slow clients: {summary(loaded[name])}   (target p99 < 100 ms)", flush=True)
    print(f"  {still} of {count} slow connections still held when the probes ended", flush=True)
    dropped_after = wait_dropped(held, 60)
    print(f"  nginx dropped every slow connection {dropped_after:.1f} s after the last was opened "
          f"(client_body_timeout)" if dropped_after is not None else "  some slow connections outlived 60 s",
          flush=True)
    for connection in held:
        connection.close()


def open_count(connections: list[socket.socket]) -> int:
    """How many of the connections the server has not closed yet."""
    alive = 0
    for connection in connections:
        connection.setblocking(False)
        try:
            alive += connection.recv(1 << 16) != b""
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    return alive


def wait_dropped(connections: list[socket.socket], timeout: float) -> float | None:
    """Seconds until the server closed every connection (from now), or None after `timeout`."""
    selector = selectors.DefaultSelector()
    for connection in connections:
        selector.register(connection, selectors.EVENT_READ)
    started, left = time.monotonic(), len(connections)
    while left and time.monotonic() - started < timeout:
        for key, _ in selector.select(1):
            try:
                data = key.fileobj.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                selector.unregister(key.fileobj)
                left -= 1
    return time.monotonic() - started if not left else None


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
        for label, extra in TOPOLOGIES.items():
            results[label] = run_topology(label, extra, args, workdir, redis_url)
    finally:
        if redis_process:
            redis_process.terminate()
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
