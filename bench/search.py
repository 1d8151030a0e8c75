"""Search at scale: p50/p99 of full-text search among N messages, against the LIKE scan it replaced and /ping.

Builds a fresh database with the app's schema (and so its search index) and N
messages (default 200,000; --messages 1000000 for the issue's 1M figure) in
threads of about four, from 20,000 customers across 3 channels and 10 queues,
their words drawn from a Zipf-like vocabulary, with rare order numbers and a
few known phrases. Then starts the Procfile's web process and times over real
HTTP: a rare term, a common word (first page), a word with filters, a phrase,
a word being typed (prefix) and a customer's handle; baseline from the same
run: GET /ping. In process: the same searches' SQL and Python, and the old
`lower(text) LIKE '%q%'` scan for the rare term.

SQLite by default (a temporary file); --database-url postgresql://... (or
sqlite:////path) runs on that database instead. THAT DATABASE IS EMPTIED: point
it at a scratch database. --reuse keeps what an earlier run of the same
--messages built there (building 1M took 30-36 minutes on a busy 2-core box).

Usage: .venv/bin/python bench/search.py [--messages 200000] [--requests 200] [--database-url URL] [--reuse]
"""

import argparse
import itertools
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
import sqlalchemy as sa  # noqa: E402

from bench.queue_page import describe, timings  # noqa: E402
from devstack.launcher import start_process, stop_process, wait_healthy  # noqa: E402
from devstack.localredis import free_port, start_redis  # noqa: E402
from workspace import create_app  # noqa: E402
from workspace.extensions import db  # noqa: E402
from workspace.models import Agent, ApiToken, Author, Channel, Conversation, Message, Queue, utcnow  # noqa: E402
from workspace.models.search_index import POSTGRESQL  # noqa: E402
from workspace.services.conversations.search import search  # noqa: E402

CHUNK = 20_000
AUTHORS = 20_000
QUEUE_SHARE = [0.30, 0.20, 0.15, 0.10, 0.08, 0.06, 0.05, 0.03, 0.02, 0.01]
COMMON = ["account", "order", "help", "please", "thanks", "app", "payment", "card", "login", "refund"]
PHRASES = ["charged twice", "cannot log in", "where is my parcel"]
RARE_ORDER = "order 7654321"
# The searches timed: (label, query).
QUERIES = [
    ("rare term (an order number)", "7654321"),
    ("common word, first page", "account"),
    ("word + status + queue filters", "refund status:open queue:q1"),
    ('quoted phrase', '"charged twice"'),
    ("word being typed (prefix)", "paym"),
    ("customer handle", "user1234"),
]


def vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    """Common support words and 20,000 made-up ones, weighted like natural text (Zipf, s≈1)."""
    made_up = {"".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))
               for _ in range(20_000)}
    words = COMMON + sorted(made_up - set(COMMON))
    return words, list(itertools.accumulate(1 / (rank + 5) for rank in range(len(words))))


def generate(count: int, rng: random.Random, postgresql: bool) -> None:
    """Insert channels, queues, customers, conversations and `count` messages through the index."""
    db.drop_all()
    db.create_all()
    if postgresql:  # a GIN index fills far faster at once than row by row: build it after the rows
        db.session.execute(sa.text("DROP INDEX ix_messages_search"))
    channels = [Channel(slug=slug, name=slug, secret="s") for slug in ("forum", "social", "email")]
    queues = [Queue(slug=f"q{n}", name=f"Queue {n}") for n in range(len(QUEUE_SHARE))]
    db.session.add_all([*channels, *queues])
    db.session.flush()
    db.session.execute(Author.__table__.insert(), [
        {"channel_id": channels[n % 3].id, "external_id": f"a{n}", "handle": f"user{n}", "name": f"Customer {n}",
         "followers": 0, "verified": False, "tags": [], "created_at": utcnow(), "updated_at": utcnow()}
        for n in range(AUTHORS)])
    db.session.commit()
    words, weights = vocabulary(rng)
    now, next_conversation, message_id = utcnow(), 1, 1
    for start in range(0, count, CHUNK):
        conversations, messages = [], []
        while message_id <= min(count, start + CHUNK):
            created = now - timedelta(minutes=rng.randint(0, 525_600))
            author = rng.randint(1, AUTHORS)
            conversations.append({
                "id": next_conversation, "channel_id": (author - 1) % 3 + 1, "author_id": author,
                "queue_id": rng.choices(range(1, 11), weights=QUEUE_SHARE)[0],
                "status": "open" if rng.random() < 0.1 else "resolved", "priority": 2, "priority_score": 0.0,
                "subject": " ".join(rng.choices(words, cum_weights=weights, k=4)),
                "tags": ["refund"] if rng.random() < 0.1 else [], "created_at": created, "updated_at": created,
                "last_message_at": created, "sla_due_at": created + timedelta(hours=8)})
            for _ in range(rng.randint(1, 7)):
                text = " ".join(rng.choices(words, cum_weights=weights, k=rng.randint(8, 40)))
                if rng.random() < 0.02:
                    text += " " + rng.choice(PHRASES)
                if message_id == count // 2:
                    text += " " + RARE_ORDER
                messages.append({"id": message_id, "conversation_id": next_conversation, "author_id": author,
                                 "channel_id": (author - 1) % 3 + 1, "direction": "inbound", "subject": "",
                                 "external_id": f"m{message_id}", "text": text, "created_at": created,
                                 "received_at": created, "delivery_attempts": 0})
                message_id += 1
            next_conversation += 1
        db.session.execute(Conversation.__table__.insert(), conversations)
        db.session.execute(Message.__table__.insert(), messages)
        db.session.commit()
    if postgresql:
        db.session.execute(sa.text(next(s for s in POSTGRESQL if "ix_messages_search" in s)))
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def stored_messages() -> int:
    """How many messages the database holds already (0 when it has no schema yet)."""
    try:
        return db.session.scalar(sa.select(sa.func.count()).select_from(Message))
    except sa.exc.DBAPIError:
        db.session.rollback()
        return 0


def like_search(queue_ids: list[int], text: str) -> list:
    """The search this replaced: lower(...) LIKE '%text%' over every message, customer and subject."""
    pattern = f"%{text.lower()}%"
    matching_message = sa.select(Message.conversation_id).where(sa.func.lower(Message.text).like(pattern))
    matching_author = sa.select(Author.id).where(sa.or_(sa.func.lower(Author.handle).like(pattern),
                                                        sa.func.lower(Author.name).like(pattern)))
    return db.session.scalars(
        sa.select(Conversation.id).where(sa.or_(Conversation.id.in_(matching_message),
                                                Conversation.author_id.in_(matching_author),
                                                sa.func.lower(Conversation.subject).like(pattern)),
                                         Conversation.queue_id.in_(queue_ids))
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(50)).all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", help="a scratch PostgreSQL database (emptied); default: SQLite")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the messages an earlier run built in --database-url, if it has that many")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="switchboard-search-")
    redis_process, redis_url = (None, os.environ["REDIS_URL"]) if os.environ.get("REDIS_URL") else \
        start_redis(os.path.join(workdir, "redis"))
    url = args.database_url or f"sqlite:///{workdir}/search.db"
    settings = {"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url, "DISPATCHER_ENABLED": False,
                "SECRET_KEY": uuid.uuid4().hex}
    app = create_app(settings)
    with app.app_context():
        started = time.perf_counter()
        stored = stored_messages() if args.reuse else 0
        db.session.commit()  # end the count's transaction: drop_all's DROP TABLE would wait on it for good
        # A build ends its last thread whole, so it holds a few more than asked.
        if args.messages <= stored < args.messages + 10:
            print(f"{db.engine.dialect.name}: reusing the {stored:,} messages already there")
        else:
            generate(args.messages, random.Random(1), db.engine.dialect.name == "postgresql")
            print(f"{db.engine.dialect.name}: generated {args.messages:,} messages in "
                  f"{time.perf_counter() - started:.0f} s (index included)")
        agent = Agent(email=f"sup-{uuid.uuid4().hex[:8]}@example.com", name="Sup", role="supervisor")
        row, token = ApiToken.issue(agent, "bench")
        db.session.add_all([agent, row])
        db.session.commit()
        queue_ids = list(db.session.scalars(sa.select(Queue.id)))
        for label, query in QUERIES:  # sanity: every query finds something
            found, _ = search(agent, query)
            assert found, f"{label}: {query!r} found nothing"
        in_process = {label: timings(lambda q=query: (search(agent, q), db.session.rollback()), args.requests)
                      for label, query in QUERIES}
        like = timings(lambda: (like_search(queue_ids, "7654321"), db.session.rollback()), 5)
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, REDIS_URL=redis_url, PORT=str(port),
               SWITCHBOARD_SECRET_KEY=settings["SECRET_KEY"],
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    log = open(os.path.join(workdir, "web.log"), "w")
    web = start_process("web", env, stdout=log, stderr=log)
    base, session = f"http://127.0.0.1:{port}", requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    try:
        if not wait_healthy(base):
            sys.exit("server did not become healthy")
        ping = timings(lambda: session.get(f"{base}/ping", timeout=10), args.requests)
        http = {}
        for label, query in QUERIES:
            response = session.get(f"{base}/api/v1/search", params={"q": query}, timeout=30)
            assert response.status_code == 200 and response.json()["data"], (label, response.text[:200])
            http[label] = timings(lambda q=query: session.get(f"{base}/api/v1/search", params={"q": q}, timeout=30),
                                  args.requests)
    finally:
        stop_process(web)
        if redis_process:
            redis_process.terminate()
    baseline = statistics.median(ping)
    print(describe("GET /ping (baseline)", ping))
    for label, times in http.items():
        print(describe(f"HTTP {label}", times, baseline))
    for label, times in in_process.items():
        print(describe(f"in process: {label}", times))
    print(describe("old LIKE scan, rare term (5 runs)", like))
    print("goal (issue 14): search p99 <= 20 ms at 1M and 10M messages, both databases")


if __name__ == "__main__":
    main()
