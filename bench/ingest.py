"""Ingest throughput against the real server, with a hello-world baseline from the same run.

Starts Redis (unless REDIS_URL is set), a fresh SQLite database and gunicorn as
the Procfile runs it; measures GET /ping (the bare baseline), signed
single-post webhooks and 500-post batches; then counts rows (zero lost) and
starts a worker to show every post gets routed.

Hello-world and single-post phases alternate for several rounds, and the
ratio is taken within each round, so both sides of it saw the same machine;
the medians are printed.

Usage: .venv/bin/python bench/ingest.py [--seconds 8] [--rounds 3]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.http_load import CONNECTIONS, build_request, run_load  # noqa: E402
from bench.stack import bench_stack  # noqa: E402
from devstack.launcher import start_process, stop_process, wait_healthy  # noqa: E402
from workspace.channels.signature import sign  # noqa: E402

SECRET = "bench-secret"


def post(number: int, run: str) -> dict:
    """A realistic post with a unique id; every tenth author repeats (threads build up)."""
    return {"id": f"{run}-{number}", "author": {"id": f"user-{number % 5000}", "handle": f"user{number % 5000}",
                                                  "name": "Bench User", "followers": number % 3000},
            "text": f"@billing my card was charged twice for order {number}, please refund",
            "subject": "Double charge", "created_at": "2026-11-22T10:00:00Z"}


def signed(body: bytes) -> bytes:
    return build_request("POST", "/webhooks/bench", body, {
        "Content-Type": "application/json", "X-Switchboard-Signature": sign(SECRET, body)})



def limiter_seconds(app, deliveries: int = 200_000) -> float:
    """What the webhook rate limiter costs one signed delivery, in seconds, measured in process: the
    forger check and the channel's bucket, as receive_webhook calls them."""
    from types import SimpleNamespace

    from workspace.web.webhooks.limits import WebhookLimits

    limits = WebhookLimits(app.config["WEBHOOK_RATE_LIMIT"], app.config["WEBHOOK_BAD_SIGNATURES_PER_MINUTE"], 1)
    channel = SimpleNamespace(id=1, slug="bench", settings={"rate_limit": 100_000_000})
    started = time.perf_counter()
    for _ in range(deliveries):
        limits.refuse_known_forger(channel, "127.0.0.1")
        limits.take_delivery(channel)
    return (time.perf_counter() - started) / deliveries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each measured phase")
    parser.add_argument("--rounds", type=int, default=3, help="alternating hello/single rounds")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="switchboard-bench-")
    redis_process, env = bench_stack(workdir)
    redis_url, port = env["REDIS_URL"], int(env["PORT"])
    from workspace import create_app
    from workspace.extensions import db
    from workspace.models import Channel, Conversation, Message, Queue

    app = create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"], "REDIS_URL": redis_url,
                      "RQ_QUEUE": env["SWITCHBOARD_RQ_QUEUE"], "DISPATCHER_ENABLED": False})
    with app.app_context():
        db.create_all()
        # A rate_limit far above what one machine sends: the limiter is on the path and counts every delivery,
        # but the figures measure ingest, not its refusals (tests/channels/test_rate_limits.py checks those).
        db.session.add_all([Channel(slug="bench", name="Bench", secret=SECRET, settings={"rate_limit": 100_000}),
                            Queue(slug="billing", name="Billing"),
                            Queue(slug="triage", name="Triage")])
        db.session.commit()

    log = open(os.path.join(workdir, "web.log"), "w")
    web = start_process("web", env, stdout=log, stderr=log)
    worker = None
    try:
        base = f"http://127.0.0.1:{port}"
        if not wait_healthy(base):
            sys.exit("server did not become healthy")
        run = uuid.uuid4().hex[:6]
        hello = [build_request("GET", "/ping")] * 200_000
        singles = [signed(json.dumps(post(n, run)).encode()) for n in range(25_000 * args.rounds)]
        run_load(port, hello[:2000], 1.0)  # warm up
        warm = run_load(port, singles[:1000], 1.0)  # warm up (these are stored too)
        hello_results, single_results = [], []
        for number in range(args.rounds):
            hello_results.append(run_load(port, hello, args.seconds))
            single_results.append(run_load(port, singles[1000 + number * 25_000:1000 + (number + 1) * 25_000],
                                           args.seconds))

        batches = [signed(json.dumps([post(n, run + "b") for n in range(start, start + 500)]).encode())
                   for start in range(0, 250_000, 500)]
        batch_result = run_load(port, batches, args.seconds, processes=1, connections=2)

        accepted = (warm["statuses"].get(202, 0) + sum(r["statuses"].get(202, 0) for r in single_results)
                    + batch_result["statuses"].get(202, 0) * 500)
        with app.app_context():
            stored = db.session.scalar(sa.select(sa.func.count()).select_from(Message))
        worker = start_process("worker", env, stdout=log, stderr=log)
        routed_started = time.monotonic()
        with app.app_context():
            from workspace.jobs.dispatch import sweep

            sweep(grace_seconds=0)  # anything the web's dispatcher had not handed over yet
            while db.session.scalar(sa.select(sa.func.count()).select_from(Conversation)
                                    .where(Conversation.status == "new")):
                db.session.rollback()
                if time.monotonic() - routed_started > 300:
                    break
                time.sleep(0.2)
            unrouted = db.session.scalar(sa.select(sa.func.count()).select_from(Conversation)
                                         .where(Conversation.status == "new"))
            conversations = db.session.scalar(sa.select(sa.func.count()).select_from(Conversation))
        routing_seconds = time.monotonic() - routed_started
    finally:
        for process in (web, worker):
            if process:
                stop_process(process)
        if redis_process:
            redis_process.terminate()

    hello_rates = [r["per_second"] for r in hello_results]
    single_rates = [r["per_second"] for r in single_results]
    ratios = [single / hello for single, hello in zip(single_rates, hello_rates, strict=True)]
    failures = sum(n for r in single_results for code, n in r["statuses"].items() if code != 202)
    batch_posts = batch_result["statuses"].get(202, 0) * 500 / batch_result["seconds"]
    print(f"rounds of {args.seconds:.0f} s each: {args.rounds}, {2 * CONNECTIONS} concurrent senders "
          f"(medians; each round's figures in brackets)")
    print(f"hello-world GET /ping       {statistics.median(hello_rates):9.0f} req/s   "
          f"[{', '.join(f'{r:.0f}' for r in hello_rates)}]")
    print(f"signed single-post webhook  {statistics.median(single_rates):9.0f} posts/s "
          f"[{', '.join(f'{r:.0f}' for r in single_rates)}]  non-202 answers: {failures}")
    print(f"  ratio ingest/hello        {statistics.median(ratios):9.2f}       "
          f"[{', '.join(f'{r:.2f}' for r in ratios)}]  (goal >= 0.30)")
    limiter = limiter_seconds(app)
    print(f"  rate limiter per delivery {limiter * 1e6:9.2f} us    = {limiter * statistics.median(single_rates):.2%} "
          "of the web process's time per signed post at the rate above")
    print(f"500-post batches            {batch_posts:9.0f} posts/s statuses {batch_result['statuses']} (goal >= 5000)")
    print(f"posts acknowledged 202      {accepted:9d}")
    print(f"messages in the database    {stored:9d}   lost: {accepted - stored}")
    print(f"conversations routed        {conversations - unrouted:9d} of {conversations} in {routing_seconds:.1f} s "
          f"by one worker ({(conversations - unrouted) / routing_seconds:.0f}/s)")


if __name__ == "__main__":
    main()
