"""Live latency: webhook accepted -> event in every connected console, at a steady post rate.

Starts Redis (unless REDIS_URL is set), a fresh SQLite database, the Procfile's
web (gunicorn) and worker, connects N Socket.IO consoles (websocket transport,
token auth) and posts signed webhooks at a steady rate. For each post and each
console it records when the 202 came back and when `conversation.created`
naming that conversation arrived; prints p50/p99/max and the events lost. The
baseline from the same run is a Socket.IO round trip (emit with ack) on an
idle server.

Usage: .venv/bin/python bench/live.py [--consoles 50] [--rate 200] [--seconds 30]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import socketio  # noqa: E402

from bench.stack import stack_environment  # noqa: E402
from workspace.ingest.signature import sign  # noqa: E402
from workspace.launcher import start_process, stop_process, wait_healthy  # noqa: E402

SECRET = "live-bench"
# Concurrent webhook senders sharing the post rate.
SENDERS = 8


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--consoles", type=int, default=50)
    parser.add_argument("--rate", type=float, default=200.0, help="posts per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="switchboard-live-")
    redis_process, redis_url, port, env = stack_environment(workdir, "live")
    from workspace import create_app
    from workspace.extensions import db
    from workspace.models import Agent, ApiToken, Channel, Queue

    app = create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"], "REDIS_URL": redis_url,
                      "DISPATCHER_ENABLED": False, "SECRET_KEY": env["SWITCHBOARD_SECRET_KEY"]})
    with app.app_context():
        db.create_all()
        db.session.add_all([Channel(slug="forum", name="Forum", secret=SECRET), Queue(slug="billing", name="B"),
                            Queue(slug="triage", name="T")])
        agent = Agent(email="sup@example.com", name="Sup", role="supervisor")
        row, token = ApiToken.issue(agent, "bench")
        db.session.add_all([agent, row])
        db.session.commit()
    log = open(os.path.join(workdir, "processes.log"), "w")
    processes = [start_process(name, env, stdout=log, stderr=log) for name in ("web", "worker")]
    base = f"http://127.0.0.1:{port}"
    received: dict[int, dict[int, float]] = {}
    lock = threading.Lock()
    clients = []
    try:
        if not wait_healthy(base):
            sys.exit("server did not become healthy")
        for number in range(args.consoles):
            client = socketio.Client(reconnection=False)

            def on_created(data, number=number):
                now = time.time()
                with lock:
                    for conversation in data["conversations"]:
                        received.setdefault(conversation["id"], {}).setdefault(number, now)

            client.on("conversation.created", on_created)
            client.connect(base, auth={"token": token}, transports=["websocket"], wait_timeout=10)
            clients.append(client)
        round_trips = []
        for _ in range(50):
            started = time.time()
            clients[0].call("view", {"conversation_id": 0}, timeout=5)
            round_trips.append(time.time() - started)

        accepted: dict[int, float] = {}
        interval, total = 1 / args.rate, int(args.rate * args.seconds)
        started = time.monotonic()

        def sender(offset: int) -> None:
            """Post every SENDERS-th post on its own schedule, so the rate holds while requests overlap."""
            session = requests.Session()
            for number in range(offset, total, SENDERS):
                pause = started + number * interval - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                body = json.dumps({"id": f"live-{number}", "author": {"id": f"u{number}", "handle": f"u{number}"},
                                   "text": f"@billing live post {number}"}).encode()
                response = session.post(f"{base}/webhooks/forum", data=body, timeout=10, headers={
                    "Content-Type": "application/json", "X-Switchboard-Signature": sign(SECRET, body)})
                if response.status_code == 202:
                    accepted[response.json()["conversation_id"]] = time.time()

        senders = [threading.Thread(target=sender, args=(offset,)) for offset in range(SENDERS)]
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join()
        achieved = total / (time.monotonic() - started)
        time.sleep(5)  # let the last events arrive
    finally:
        for client in clients:
            client.disconnect()
        for process in processes:
            stop_process(process)
        if redis_process:
            redis_process.terminate()

    latencies = [at - accepted[cid] for cid, by_console in received.items() if cid in accepted
                 for at in by_console.values()]
    expected = len(accepted) * args.consoles
    print(f"{args.consoles} consoles, {len(accepted)} posts accepted at {achieved:.0f} posts/s "
          f"(asked {args.rate:.0f}) for {args.seconds:.0f} s; server: Procfile web (gunicorn + gevent)")
    print(f"baseline: socket round trip on the idle server p50 {statistics.median(round_trips) * 1000:.1f} ms")
    if latencies:
        print(f"webhook accepted -> event in console: p50 {statistics.median(latencies) * 1000:.0f} ms, "
              f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms  "
              f"(goal p99 <= 250 ms)")
    print(f"events expected {expected}, received {len(latencies)}, lost {expected - len(latencies)}")


if __name__ == "__main__":
    main()
