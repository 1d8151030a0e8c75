"""The queue page at scale: the first 50 items of a queue among 1,000,000 conversations.

Builds a fresh SQLite database with the app's schema and N conversations
(10 queues of skewed sizes; mostly resolved, a realistic open share; one
inbound message for each open one, which list previews read), starts the
Procfile's web process, and times over real HTTP: the first page of the
biggest queue, a page deep in it (by cursor), and the queue list with its
counts; baseline from the same run: GET /ping. Also the SQL alone, in process:
the first page, and the queue counts kept (workspace/models/counts.py) against the
COUNT(*) ... GROUP BY they replaced.

Usage: .venv/bin/python bench/queue_page.py [--conversations 1000000] [--requests 300]
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from devstack.launcher import start_process, stop_process, wait_healthy  # noqa: E402
from devstack.localredis import free_port, start_redis  # noqa: E402

CHUNK = 20_000
QUEUE_SHARE = [0.30, 0.20, 0.15, 0.10, 0.08, 0.06, 0.05, 0.03, 0.02, 0.01]


def timings(call, count: int) -> list[float]:
    """Run call() count times; return the durations in ms."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def describe(label: str, times: list[float], baseline: float | None = None) -> str:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    ratio = f"   {statistics.median(times) / baseline:5.1f}x /ping" if baseline else ""
    return f"{label:34} p50 {statistics.median(times):7.2f} ms  p99 {p99:7.2f} ms  max {max(times):7.2f} ms{ratio}"


def generate(app, count: int, rng: random.Random) -> str:
    """Insert the conversations (and open ones' messages); return the biggest queue's slug."""
    from workspace.extensions import db
    from workspace.models import Author, Channel, Conversation, Message, Queue, utcnow

    with app.app_context():
        db.create_all()
        channel = Channel(slug="forum", name="Forum", secret="s")
        queues = [Queue(slug=f"q{n}", name=f"Queue {n}") for n in range(len(QUEUE_SHARE))]
        db.session.add_all([channel, *queues])
        db.session.flush()
        authors = [Author(channel_id=channel.id, external_id=f"a{n}", handle=f"user{n}", tags=[])
                   for n in range(5000)]
        db.session.add_all(authors)
        db.session.commit()
        author_ids, queue_ids = [a.id for a in authors], [q.id for q in queues]
        now = utcnow()
        conversation_table, message_table = Conversation.__table__, Message.__table__
        next_id = 1
        for start in range(0, count, CHUNK):
            rows, messages = [], []
            for number in range(start, min(count, start + CHUNK)):
                created = now - timedelta(minutes=rng.randint(0, 525_600))
                status = "open" if rng.random() < 0.05 else "pending" if rng.random() < 0.03 else "resolved"
                priority = rng.choices([0, 1, 2, 3], weights=[3, 12, 70, 15])[0]
                rows.append({"id": next_id, "channel_id": channel.id, "author_id": rng.choice(author_ids),
                             "queue_id": rng.choices(queue_ids, weights=QUEUE_SHARE)[0], "status": status,
                             "priority": priority, "priority_score": 0.0, "subject": f"Subject {number}",
                             "tags": [], "created_at": created, "updated_at": created,
                             "last_message_at": created, "sla_due_at": created + timedelta(hours=8 >> priority)})
                if status == "open":
                    messages.append({"conversation_id": next_id, "channel_id": channel.id, "direction": "inbound",
                                     "external_id": f"m{number}", "subject": "", "text": f"post number {number}",
                                     "created_at": created, "received_at": created, "delivery_attempts": 0})
                next_id += 1
            db.session.execute(conversation_table.insert(), rows)
            if messages:
                db.session.execute(message_table.insert(), messages)
            db.session.commit()
        return queues[0].slug


def count_star(queue_ids: list[int]):
    """The live counts as they were computed before they were kept: COUNT(*) over the queue-order index."""
    import sqlalchemy as sa

    from workspace.models import Conversation, utcnow

    soon = sa.literal(utcnow() + timedelta(minutes=30), type_=Conversation.sla_due_at.type)
    return (sa.select(Conversation.queue_id, Conversation.status, sa.func.count(),
                      sa.func.count(Conversation.assignee_id),
                      sa.func.count(sa.case((Conversation.sla_due_at <= soon, 1))))
            .where(Conversation.queue_id.in_(queue_ids), Conversation.status.in_(("open", "pending")))
            .group_by(Conversation.queue_id, Conversation.status))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="switchboard-queue-")
    redis_process, redis_url = (None, os.environ["REDIS_URL"]) if os.environ.get("REDIS_URL") else \
        start_redis(os.path.join(workdir, "redis"))
    from workspace import create_app
    from workspace.extensions import db
    from workspace.models import Agent, ApiToken, Queue
    from workspace.models.counts import queue_counts, recount
    from workspace.services.conversations.queues import list_conversations

    settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir}/queue.db", "REDIS_URL": redis_url,
                "DISPATCHER_ENABLED": False, "SECRET_KEY": uuid.uuid4().hex}
    app = create_app(settings)
    started = time.perf_counter()
    biggest = generate(app, args.conversations, random.Random(1))
    print(f"generated {args.conversations:,} conversations in {time.perf_counter() - started:.0f} s")
    with app.app_context():
        agent = Agent(email="sup@example.com", name="Sup", role="supervisor")
        row, token = ApiToken.issue(agent, "bench")
        db.session.add_all([agent, row])
        db.session.commit()
        queue = db.session.scalar(db.select(Queue).where(Queue.slug == biggest))
        sql = timings(lambda: (list_conversations(queue, status="open", limit=50, cursor=None),
                               db.session.rollback()), args.requests)
        recount()  # the generator's rows fired the triggers; leave one count row per queue, as 0011 does
        queue_ids = list(db.session.scalars(db.select(Queue.id)))
        kept = timings(lambda: (queue_counts(queue_ids), db.session.rollback()), args.requests)
        counted = timings(lambda: (db.session.execute(count_star(queue_ids)).all(), db.session.rollback()),
                          max(20, args.requests // 10))
    port = free_port()
    env = dict(os.environ, DATABASE_URL=settings["SQLALCHEMY_DATABASE_URI"], REDIS_URL=redis_url, PORT=str(port),
               SWITCHBOARD_SECRET_KEY=settings["SECRET_KEY"],
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    log = open(os.path.join(workdir, "web.log"), "w")
    web = start_process("web", env, stdout=log, stderr=log)
    base, session = f"http://127.0.0.1:{port}", requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    try:
        if not wait_healthy(base):
            sys.exit("server did not become healthy")
        page_url = f"{base}/api/v1/queues/{biggest}/conversations?limit=50"
        cursor = None
        for _ in range(100):  # walk 100 pages in, for a deep cursor
            page = session.get(page_url + (f"&cursor={cursor}" if cursor else ""), timeout=10).json()
            cursor = page["next_cursor"] or cursor
        ping = timings(lambda: session.get(f"{base}/ping", timeout=10), args.requests)
        first = timings(lambda: session.get(page_url, timeout=10), args.requests)
        deep = timings(lambda: session.get(f"{page_url}&cursor={cursor}", timeout=10), args.requests)
        counts = timings(lambda: session.get(f"{base}/api/v1/queues", timeout=10), max(20, args.requests // 10))
    finally:
        stop_process(web)
        if redis_process:
            redis_process.terminate()
    baseline = statistics.median(ping)
    print(describe("GET /ping (baseline)", ping))
    print(describe("first 50 of the biggest queue", first, baseline) + "   (goal p99 <= 50 ms)")
    print(describe("50 from 5,000 deep (cursor)", deep, baseline))
    print(describe("GET /queues with live counts", counts, baseline))
    print(describe("SQL alone, first page, in process", sql))
    print(describe("kept counts, all queues, in process", kept))
    print(describe("COUNT(*) GROUP BY, as before", counted))


if __name__ == "__main__":
    main()
