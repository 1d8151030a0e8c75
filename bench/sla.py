"""SLA arithmetic and the SLA watcher at scale, with baselines from the same run.

1. Business time: add_business_time and business_minutes_between on a
   two-window weekday calendar with a year of holidays, against plain
   calendar-time arithmetic (a timedelta add) as the baseline.
2. The watcher: N conversations in SQLite (a realistic 5% open, each with
   running clocks), of which D are due for a look; times check() when nothing
   is due (the common tick) and when D are (at risk / breached, with events
   published to a real Redis), against the baseline of a COUNT(*) that reads
   the whole table.

Usage: .venv/bin/python bench/sla.py [--conversations 200000] [--due 1000]
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack.localredis import start_redis  # noqa: E402
from sla import add_business_time, business_minutes_between, parse_calendar  # noqa: E402

CHUNK = 20_000
HOURS = {day: [["09:00", "12:30"], ["13:30", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def per_second(call, seconds: float = 1.0) -> float:
    """Calls per second of call() over about `seconds`."""
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        call()
        count += 1
    return count / (time.perf_counter() - started)


def arithmetic() -> None:
    holidays = [{"name": f"h{n}", "start": (datetime(2026, 1, 1) + timedelta(days=n * 7 + 2)).date().isoformat()}
                for n in range(52)]
    calendar = parse_calendar("Europe/Paris", HOURS, holidays)
    rng = random.Random(1)
    starts = [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 300_000)) for _ in range(1000)]
    step = iter(range(10**9))
    baseline = per_second(lambda: starts[next(step) % 1000] + timedelta(minutes=480))
    for label, minutes in (("30 min", 30), ("8 h (a working day)", 480), ("2 days", 2880)):
        rate = per_second(lambda m=minutes: add_business_time(starts[next(step) % 1000], m, calendar))
        print(f"add_business_time {label:22} {rate:10,.0f}/s   (calendar time: {baseline:12,.0f}/s)")
    spans = [(start, start + timedelta(days=3)) for start in starts]
    rate = per_second(lambda: business_minutes_between(*spans[next(step) % 1000], calendar))
    print(f"business_minutes_between (3 days)        {rate:10,.0f}/s")


def watcher(count: int, due: int, redis_url: str, folder: str) -> None:
    from tests.conftest import make_config
    from workspace import create_app
    from workspace.extensions import db
    from workspace.models import NOT_DUE, Author, Channel, Conversation, Queue, utcnow
    from workspace.services.service_levels import clocks

    app = create_app(make_config(SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder}/sla.db", REDIS_URL=redis_url,
                                 SLA_CHECK_BATCH=500))
    rng = random.Random(7)
    with app.app_context():
        db.create_all()
        db.session.add_all([Channel(slug="forum", name="Forum", secret="s"), Queue(slug="billing", name="Billing")])
        db.session.flush()
        db.session.add(Author(channel_id=1, external_id="a", handle="a", tags=[]))
        db.session.commit()
        now = utcnow()
        table = Conversation.__table__
        open_ids = []
        for start in range(0, count, CHUNK):
            rows = []
            for number in range(start, min(count, start + CHUNK)):
                is_open = rng.random() < 0.05
                created = now - timedelta(minutes=rng.randint(1, 20))
                rows.append({"id": number + 1, "channel_id": 1, "author_id": 1, "queue_id": 1,
                             "status": "open" if is_open else "resolved", "priority": 2, "priority_score": 0.0,
                             "subject": "", "tags": [], "created_at": created, "updated_at": created,
                             "last_message_at": created, "waiting_since": created if is_open else None,
                             "sla_due_at": NOT_DUE, "sla_check_at": NOT_DUE})
                if is_open:
                    open_ids.append(number + 1)
            db.session.execute(table.insert(), rows)
        db.session.commit()
        started = time.perf_counter()
        for offset in range(0, len(open_ids), 500):
            conversations = db.session.scalars(sa_select(Conversation, open_ids[offset:offset + 500])).all()
            policies = clocks.Policies()  # as the routing job does: loaded once per batch
            for conversation in conversations:
                clocks.sync(conversation, conversation.created_at, policies)
            db.session.commit()
        sync_rate = len(open_ids) / (time.perf_counter() - started)
        # Make exactly `due` of them due for a look now; the rest later.
        later = now + timedelta(days=30)
        db.session.execute(table.update().where(table.c.id.in_(open_ids[due:])).values(sla_check_at=later))
        db.session.commit()
        print(f"{count:,} conversations, {len(open_ids):,} open with clocks (sync: {sync_rate:,.0f} conversations/s)")

        quiet_now = now - timedelta(days=1)
        quiet = [timed(lambda: clocks.check(quiet_now)) for _ in range(50)]
        scan = [timed(lambda: db.session.execute(
            sa_count(table, table.c.sla_due_at <= now)).scalar()) for _ in range(5)]
        started = time.perf_counter()
        totals = clocks.check(now + timedelta(days=1))  # a day on: their first replies are late
        busy = (time.perf_counter() - started) * 1000
        print(f"watcher tick, nothing due          p50 {statistics.median(quiet):8.2f} ms")
        print(f"watcher tick, {due:,} due            {busy:8.1f} ms  ({totals['breached']:,} breached, "
              f"{due / busy * 1000:,.0f} conversations/s with events)")
        print(f"baseline: COUNT(*) over the table  p50 {statistics.median(scan):8.2f} ms")


def sa_select(model, ids):
    import sqlalchemy as sa

    return sa.select(model).where(model.id.in_(ids))


def sa_count(table, condition):
    import sqlalchemy as sa

    return sa.select(sa.func.count()).select_from(table).where(condition)


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=200_000)
    parser.add_argument("--due", type=int, default=1000)
    args = parser.parse_args()
    arithmetic()
    with tempfile.TemporaryDirectory() as folder:
        process, redis_url = start_redis(folder)
        try:
            watcher(args.conversations, args.due, redis_url, folder)
        finally:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
