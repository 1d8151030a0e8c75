"""The supervisors' dashboard at scale: one snapshot, and the routing job's extra bookkeeping.

Builds a fresh SQLite database of N conversations (bench/queue_page.py's
generator: 10 queues, mostly resolved), answers and resolves a share of today's
by agents, fills the volume rollup for 24 hours, then times in process:
each part of a dashboard snapshot and the whole of it; baseline from the same
run: the console's live queue counts (models.counts.queue_counts). Then the
rollup and incident bookkeeping the routing job adds per batch of 100 posts.

A snapshot is computed at most once per DASHBOARD_PUSH_SECONDS (2 s) however
many posts arrive, so its cost divided by 2 s is the dashboard's share of one core.

Usage: .venv/bin/python bench/dashboard.py [--conversations 200000] [--repeat 20]
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

from bench.queue_page import describe, generate, timings  # noqa: E402
from devstack.localredis import start_redis  # noqa: E402


def work_today(app, rng: random.Random) -> None:
    """Give agents today's share of answered and resolved conversations, and a day of rollup counts."""
    import sqlalchemy as sa

    from workspace.extensions import db
    from workspace.models import Agent, Conversation, Queue, VolumeCount, utcnow
    from workspace.services.supervision.volume import bucket_of

    with app.app_context():
        agents = [Agent(email=f"agent{n}@example.com", name=f"Agent {n}") for n in range(20)]
        db.session.add_all(agents)
        db.session.commit()
        now = utcnow()
        recent = db.session.execute(sa.select(Conversation.id, Conversation.created_at, Conversation.status).where(
            Conversation.created_at >= now - timedelta(days=8))).all()
        table = Conversation.__table__
        update = table.update().where(table.c.id == sa.bindparam("b_id")).values(
            assignee_id=sa.bindparam("b_agent"),
            first_reply_at=sa.bindparam("b_reply", type_=table.c.first_reply_at.type),
            resolved_at=sa.bindparam("b_resolved", type_=table.c.resolved_at.type))
        rows = [{"b_id": cid, "b_agent": rng.choice(agents).id,
                 "b_reply": created + timedelta(minutes=rng.randint(1, 240)),
                 "b_resolved": created + timedelta(minutes=rng.randint(30, 600)) if status == "resolved" else None}
                for cid, created, status in recent]
        for start in range(0, len(rows), 5000):
            db.session.execute(update, rows[start:start + 5000])
            db.session.commit()
        # The SLA watcher's verdicts, as it would have left them: past due breached, due within 30 minutes at risk.
        due = Conversation.sla_due_at
        db.session.execute(sa.update(Conversation).where(Conversation.status.in_(("open", "pending"))).values(
            sla_status=sa.case((due <= sa.literal(now, type_=due.type), "breached"),
                               (due <= sa.literal(now + timedelta(minutes=30), type_=due.type), "at_risk"),
                               else_="ok")))
        db.session.commit()
        slugs = db.session.scalars(sa.select(Queue.slug)).all()
        end = bucket_of(now)
        db.session.add_all(VolumeCount(kind="queue", key=slug, bucket_start=end - timedelta(minutes=5 * i),
                                       posts=rng.randint(0, 40), sentiment_sum=rng.uniform(-5, 5),
                                       negative=rng.randint(0, 5)) for slug in slugs for i in range(288))
        db.session.commit()
        print(f"answered {len(recent):,} conversations of the last 8 days; 24 h of rollup for {len(slugs)} queues")


# Words that vary from post to post, so each post brings phrases of its own as real posts do.
WORDS = """account address android balance bank blocked browser card cart charge checkout code coupon delivery
device discount email error fee invoice iphone limit link login mobile order package password payment phone
plan price refund region screen shipping signup subscription support tablet tracking transfer update wallet
""".split()


def bookkeeping(app, repeat: int, rng: random.Random) -> list[float]:
    """Time volume.record + join_open_incidents for a batch of 100 routed conversations (rolled back)."""
    import sqlalchemy as sa
    import sqlalchemy.orm as so

    from workspace.extensions import db
    from workspace.models import Conversation, Incident, utcnow
    from workspace.services.supervision import incidents, volume

    with app.app_context():
        db.session.add(Incident(title="Known issue", match_kind="phrase", match_value="payment failed"))
        db.session.commit()
        query = (sa.select(Conversation).where(Conversation.status == "open")
                 .options(so.joinedload(Conversation.queue)).limit(100))
        times = []
        for _ in range(repeat):
            batch = db.session.scalars(query).all()  # loaded outside the clock, as the routing job has them
            for conversation in batch:  # posts arriving now, as the routing job sees them
                conversation.last_message_at = utcnow()
            db.session.flush()
            texts = [f"payment failed again on order {c.id}, the app shows error {c.id % 97} since update "
                     f"{c.id % 13}: {' '.join(rng.sample(WORDS, 8))}" for c in batch]
            started = time.perf_counter()
            volume.record(batch, texts)
            incidents.join_open_incidents(batch, texts)
            db.session.flush()
            times.append((time.perf_counter() - started) * 1000)
            db.session.rollback()
        return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="switchboard-dashboard-")
    redis_process, redis_url = (None, os.environ["REDIS_URL"]) if os.environ.get("REDIS_URL") else \
        start_redis(os.path.join(workdir, "redis"))
    from workspace import create_app
    from workspace.extensions import db
    from workspace.models import Queue, utcnow
    from workspace.models.counts import queue_counts
    from workspace.services.supervision import dashboard

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir}/dashboard.db", "REDIS_URL": redis_url,
                      "DISPATCHER_ENABLED": False, "SECRET_KEY": uuid.uuid4().hex, "DASHBOARD_SLOW_SECONDS": 0})
    started = time.perf_counter()
    rng = random.Random(1)
    generate(app, args.conversations, rng)
    work_today(app, rng)
    print(f"generated {args.conversations:,} conversations in {time.perf_counter() - started:.0f} s")
    try:
        with app.app_context():
            ids = db.session.scalars(db.select(Queue.id)).all()
            now = utcnow()
            parts = [("console queue counts (baseline)", lambda: queue_counts(ids)),
                     ("queue table", lambda: dashboard.queue_table({})),
                     ("oldest waiting (slow part)", lambda: dashboard.oldest_waiting()),
                     ("volume + sentiment charts (rollup)", lambda: dashboard.charts(now)),
                     ("first reply p50/p90 (slow part)", lambda: dashboard.first_reply_times(now)),
                     ("handled today (slow part)", lambda: dashboard.handling_today(now)),
                     ("agent table", lambda: dashboard.agent_table({})),
                     ("whole snapshot, slow parts fresh", lambda: dashboard.snapshot(now))]
            results = [(label, timings(lambda call=call: (call(), db.session.rollback()), args.repeat))
                       for label, call in parts]
            app.config["DASHBOARD_SLOW_SECONDS"] = 3600
            results.append(("whole snapshot, slow parts cached",
                            timings(lambda: (dashboard.snapshot(now), db.session.rollback()), args.repeat)))
        baseline = statistics.median(results[0][1])
        for label, times in results:
            print(describe(label, times, None) + f"   {statistics.median(times) / baseline:5.1f}x baseline")
        fresh, cached = (statistics.median(times) for _, times in results[-2:])
        share = cached / 2000 + (fresh - cached) / 30_000
        print(f"dashboard share of one core, pushing every 2 s with slow parts every 30 s: {share:.1%}")
        print(describe("routing bookkeeping per 100 posts", bookkeeping(app, args.repeat, rng)))
    finally:
        if redis_process:
            redis_process.terminate()


if __name__ == "__main__":
    main()
