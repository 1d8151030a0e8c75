"""Live latency: webhook accepted -> event in every connected console, at a steady post rate.

Starts Redis (unless REDIS_URL is set), a fresh SQLite database, the web
process (the Procfile's gunicorn + gevent, or gunicorn threads with
Flask-SocketIO's threading mode) and the Procfile's worker, connects N
consoles over Socket.IO (websocket transport, token auth; see
bench/consoles.py) and runs two phases per round and variant:

- baseline: a bare emit loop publishes `conversation.created` to a queue room
  through the Redis message queue at the same rate, with no ingest or routing:
  emit -> arrival is what the Socket.IO path alone costs on this machine now;
- webhooks: signed posts at the rate; 202 received -> `conversation.created`
  naming that conversation arrives in each console.

Each phase prints p50/p99/max, events lost (must be 0) and the load average.
The webhook phase also shows where the time went, from the routing jobs' own
timestamps in RQ: 202 -> job enqueued (the dispatcher), enqueued -> started
(waiting for the worker), started -> in console (routing, commit, emit, fan-out).

A variant is an async mode with optional settings, e.g.
`gevent+SWITCHBOARD_DISPATCH_LINGER_SECONDS=0.02`; with several, rounds
alternate between them so the machine's noise hits all alike.

Usage: .venv/bin/python bench/live.py [--consoles 20] [--rate 200] [--seconds 30]
                                      [--variants gevent threading ...] [--rounds 1]
"""

import argparse
import json
import multiprocessing
import os
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

from bench.consoles import run_consoles  # noqa: E402
from bench.stack import process_environment, redis_for  # noqa: E402
from devstack.launcher import start_process, stop_process, wait_healthy  # noqa: E402
from devstack.processes import descendants  # noqa: E402
from workspace.channels.signature import sign  # noqa: E402

SECRET = "live-bench"
# Concurrent webhook senders sharing the post rate.
SENDERS = 8
# How long the consoles may take to receive the last events of a phase.
DRAIN_SECONDS = 15
# The web process per async mode: the Procfile's (gevent), or gunicorn threads.
THREADING_WEB = "gunicorn --worker-class gthread --threads 64 --workers 1 --bind 127.0.0.1:${PORT} wsgi:app"


def cpu_seconds(root: int) -> float:
    """CPU time used so far by a process and all its descendants (Linux /proc)."""
    total = 0.0
    for pid in descendants(root):
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rpartition(")")[2].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values fall."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def prepare(workdir: str, redis_url: str) -> tuple[str, str, int]:
    """Create the database with a channel, two queues and a supervisor; return its URL, a token, a queue id."""
    url = f"sqlite:///{workdir}/live-{uuid.uuid4().hex[:6]}.db"
    return (url, *populate(url, redis_url))


def populate(url: str, redis_url: str) -> tuple[str, int]:
    """Give a database (its tables created if missing) the channel `forum`, the queues billing and triage and a
    supervisor; return the supervisor's API token and the billing queue's id."""
    from workspace import create_app
    from workspace.extensions import db
    from workspace.models import Agent, ApiToken, Channel, Queue

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url, "DISPATCHER_ENABLED": False})
    with app.app_context():
        db.create_all()
        billing = Queue(slug="billing", name="B")
        # --rate may exceed the default rate_limit: the limiter counts, but must not refuse, what is measured.
        db.session.add_all([Channel(slug="forum", name="Forum", secret=SECRET, settings={"rate_limit": 100_000}),
                            billing, Queue(slug="triage", name="T")])
        agent = Agent(email="sup@example.com", name="Sup", role="supervisor")
        row, token = ApiToken.issue(agent, "bench")
        db.session.add_all([agent, row])
        db.session.commit()
        queue_id = billing.id
        db.session.remove()
        db.engine.dispose()
    return token, queue_id


def start_stack(variant: str, env: dict, log) -> list[subprocess.Popen]:
    """Start the web process in the variant's async mode with its settings, and the worker."""
    mode, *settings = variant.split("+")
    env = dict(env, **dict(setting.split("=", 1) for setting in settings))
    if mode == "gevent":
        web = start_process("web", env, stdout=log, stderr=log)
    else:
        web = subprocess.Popen(THREADING_WEB, shell=True, cwd=ROOT, start_new_session=True, stdout=log, stderr=log,
                               env=dict(env, SWITCHBOARD_SOCKETIO_ASYNC_MODE="threading"))
    return [web, start_process("worker", env, stdout=log, stderr=log)]


def paced(rate: float, seconds: float, send) -> float:
    """Call send(number) for each of rate*seconds numbers on a steady schedule across SENDERS threads;
    return the rate achieved."""
    interval, total = 1 / rate, int(rate * seconds)
    started = time.monotonic()

    def sender(offset: int) -> None:
        for number in range(offset, total, SENDERS):
            pause = started + number * interval - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            send(number)

    threads = [threading.Thread(target=sender, args=(offset,)) for offset in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return total / (time.monotonic() - started)


def baseline_phase(redis_url: str, queue_id: int, rate: float, seconds: float) -> tuple[dict, float]:
    """Emit bare `conversation.created` events through the message queue; return send times by id."""
    import socketio

    manager = socketio.RedisManager(redis_url, channel="flask-socketio", write_only=True)
    sent: dict[str, float] = {}
    lock = threading.Lock()

    def send(number: int) -> None:
        key = f"baseline-{number}"
        with lock:  # one publishing connection, as a routing worker has
            sent[key] = time.time()
            manager.emit("conversation.created", {"conversations": [{"id": key, "queue": "billing"}]},
                         room=f"queue:{queue_id}", namespace="/")

    return sent, paced(rate, seconds, send)


def webhook_phase(base: str, phase: str, rate: float, seconds: float) -> tuple[dict, float]:
    """Post signed webhooks; return when each conversation's 202 arrived, by conversation id."""
    accepted: dict[int, float] = {}
    local = threading.local()

    def send(number: int) -> None:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.trust_env = False  # no proxy or netrc lookups per request
        body = json.dumps({"id": f"{phase}-{number}", "author": {"id": f"{phase}-u{number}", "handle": f"u{number}"},
                           "text": f"@billing live post {number}"}).encode()
        response = local.session.post(f"{base}/webhooks/forum", data=body, timeout=10, headers={
            "Content-Type": "application/json", "X-Switchboard-Signature": sign(SECRET, body)})
        if response.status_code == 202:
            accepted[response.json()["conversation_id"]] = time.time()

    return accepted, paced(rate, seconds, send)


def report(label: str, sent: dict, arrivals: dict, consoles: int, achieved: float, attempted: int) -> dict:
    """Print one phase's figures (events lost, and posts refused: anything but 202) and return them."""
    latencies = [at - sent[key] for key, times in arrivals.items() for at in times]
    expected = len(sent) * consoles
    load = os.getloadavg()[0]
    figures = {"p50": 0.0, "p99": 0.0, "max": 0.0, "lost": expected - len(latencies), "refused": attempted - len(sent)}
    if latencies:
        figures.update(p50=statistics.median(latencies) * 1000, p99=percentile(latencies, 0.99) * 1000,
                       max=max(latencies) * 1000)
    print(f"  {label:9} {len(sent):6} sent at {achieved:4.0f}/s  p50 {figures['p50']:6.0f} ms  "
          f"p99 {figures['p99']:6.0f} ms  max {figures['max']:6.0f} ms  lost {figures['lost']:5}  "
          f"refused {figures['refused']}  "
          f"(load {load:.1f})", flush=True)
    return figures


def print_stages(redis_url: str, queue_name: str, accepted: dict, arrivals: dict, start: str = "202") -> None:
    """Split the webhook phase's latency at the routing jobs' RQ timestamps (p50 / p99 per stage); `start`
    names the moment `accepted` holds."""
    from redis import Redis
    from rq import Queue
    from rq.job import Job

    connection = Redis.from_url(redis_url)
    queue = Queue(queue_name, connection=connection)
    first = f"{start} -> job enqueued"
    stages: dict[str, list[float]] = {first: [], "enqueued -> started": [], "started -> in console": []}
    for job in Job.fetch_many(queue.finished_job_registry.get_job_ids(), connection=connection):
        if job is None or not job.args:
            continue
        enqueued, started = job.enqueued_at.timestamp(), job.started_at.timestamp()
        for conversation_id in job.args[0]:
            if conversation_id in accepted:
                stages[first].append(enqueued - accepted[conversation_id])
                stages["enqueued -> started"].append(started - enqueued)
                stages["started -> in console"] += [at - started for at in arrivals.get(conversation_id, ())]
    connection.close()
    print("  where:    " + ";  ".join(f"{name} {statistics.median(values) * 1000:.0f} / "
                                      f"{percentile(values, 0.99) * 1000:.0f} ms"
                                      for name, values in stages.items() if values), flush=True)


def main() -> None:
    """Run the rounds and print each phase, then a summary per variant."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--consoles", type=int, default=20)
    parser.add_argument("--rate", type=float, default=200.0, help="posts (and baseline events) per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each phase")
    parser.add_argument("--variants", nargs="+", default=["gevent"],
                        help="async mode (gevent or threading), optionally +NAME=VALUE settings for both processes")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    variants = args.variants
    if any(variant.split("+")[0] not in ("gevent", "threading") or
           not all("=" in setting for setting in variant.split("+")[1:]) for variant in variants):
        sys.exit("--variants: gevent or threading, each optionally followed by +NAME=VALUE settings")
    workdir = tempfile.mkdtemp(prefix="switchboard-live-")
    redis_process, redis_url = redis_for(workdir)
    log = open(os.path.join(workdir, "processes.log"), "w")
    print(f"{args.consoles} consoles, {args.rate:.0f} posts/s for {args.seconds:.0f} s per phase, "
          f"variants {', '.join(variants)}, {args.rounds} round(s); {os.cpu_count()} cores; logs in {workdir}",
          flush=True)
    results: dict[str, list[dict]] = {variant: [] for variant in variants}
    try:
        for round_number in range(args.rounds):
            for variant in variants:
                print(f"round {round_number + 1}, {variant}:", flush=True)
                results[variant].append(run_round(variant, args, workdir, redis_url, log))
    finally:
        if redis_process:
            redis_process.terminate()
    print("summary (webhook accepted -> event in console; goal p99 <= 250 ms, 0 lost):")
    for variant, rounds in results.items():
        p99s = ", ".join(f"{r['webhooks']['p99']:.0f}" for r in rounds)
        bases = ", ".join(f"{r['baseline']['p99']:.0f}" for r in rounds)
        lost = sum(r["webhooks"]["lost"] for r in rounds)
        refused = sum(r["webhooks"]["refused"] for r in rounds)
        print(f"  {variant}: webhooks p99 per round {p99s} ms (baseline p99 {bases} ms), lost {lost}, "
              f"refused {refused}")


def run_round(variant: str, args, workdir: str, redis_url: str, log) -> dict:
    """Start a fresh stack in one variant, connect the consoles, run both phases, stop everything."""
    database_url, token, queue_id = prepare(workdir, redis_url)
    port, env = process_environment(workdir, "live", database_url, redis_url)
    processes = start_stack(variant, env, log)
    base = f"http://127.0.0.1:{port}"
    figures = {}
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    consoles = None
    try:
        if not wait_healthy(base):
            sys.exit(f"the {variant} server did not become healthy (see {workdir}/processes.log)")
        consoles = context.Process(target=run_consoles, args=(base, token, args.consoles, child), daemon=True)
        consoles.start()
        if not parent.poll(60) or parent.recv() != "ready":
            sys.exit("the consoles did not connect")
        for label, phase in (("baseline", lambda: baseline_phase(redis_url, queue_id, args.rate, args.seconds)),
                             ("webhooks", lambda: webhook_phase(base, uuid.uuid4().hex[:6], args.rate,
                                                                args.seconds))):
            pids = {"web": processes[0].pid, "worker": processes[1].pid, "consoles": consoles.pid}
            used = {name: cpu_seconds(pid) for name, pid in pids.items()}
            sent, achieved = phase()
            parent.send(("expect", list(sent), DRAIN_SECONDS))
            arrivals = parent.recv()
            used = {name: cpu_seconds(pid) - used[name] for name, pid in pids.items()}
            figures[label] = report(label, sent, arrivals, args.consoles, achieved, int(args.rate * args.seconds))
            print("  CPU:      " + ", ".join(f"{name} {seconds / len(sent) * 1000:.2f} ms"
                                             for name, seconds in used.items()) + " per post or bare event", flush=True)
        print_stages(redis_url, env["SWITCHBOARD_RQ_QUEUE"], sent, arrivals)  # of the webhook phase, the last
        parent.send("stop")
        consoles.join(timeout=10)
    finally:
        if consoles is not None and consoles.is_alive():
            consoles.terminate()
        for process in processes:
            stop_process(process)
    return figures


if __name__ == "__main__":
    main()
