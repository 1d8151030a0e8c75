"""Soak: paced signed webhooks for N minutes while processes and services are killed and restarted.

Starts its own stack in a temporary folder: a PostgreSQL cluster (Debian's
/usr/lib/postgresql/*/bin/initdb and pg_ctl, on a free port; SQLite when they
are not there, said so), a persisted Redis, and the Procfile's web, worker and
scheduler, each kept running by the launcher's supervision (a killed process is
started again, as ./bin/run does). It sends signed posts at a steady rate; a
sender whose connection breaks, or which gets no 2xx, sends the same post again
(as webhook senders do), so every post is eventually acknowledged or counted as
unanswered. On schedule it kills the worker (SIGKILL), restarts Redis keeping
its append-only file, kills the web process (SIGKILL), restarts PostgreSQL, and
restarts Redis with its data removed. Afterwards it waits for the backlog to
drain and prints sent, acknowledged, stored, doubled, lost, routed and the
time to drain, and whether any process was left dead.

Doubled counts three things: stored messages beyond one per post id, routing
announced (`conversation.created`, read from the Socket.IO Redis channel) more
than once for a conversation, and queue volume counts beyond the inbound
messages.

Its PostgreSQL and Redis are in bench/soak_servers.py.

Usage: .venv/bin/python bench/soak.py [--minutes 10] [--rate 200]
"""

import argparse
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench.http_load import build_request, read_response, run_load  # noqa: E402
from bench.ingest import SECRET, post, signed  # noqa: E402
from bench.soak_servers import Postgres, Redis, postgres_bindir  # noqa: E402
from bench.stack import process_environment  # noqa: E402
from devstack.launcher import Supervised, flask, start_process, stop_all, wait_healthy  # noqa: E402

# Concurrent senders sharing the pace; each keeps one keep-alive connection and waits for each answer, so
# there must be enough of them to hold the rate when answers slow down (32 x 1/0.16 s = 200 posts/s).
SENDERS = 32
# How long a sender keeps re-sending one post after the load ended before calling it unanswered.
RESEND_AFTER_END_SECONDS = 60.0
# Target: every conversation routed within this long after the load ends; the wait gives up at three times it.
DRAIN_TARGET_SECONDS = 60.0
# The faults, each at a fraction of the run (the last quarter is quiet, to see the stack settle).
FAULTS = ((0.15, "kill the worker (SIGKILL)"), (0.30, "restart Redis, keeping its AOF"),
          (0.45, "kill the web process (SIGKILL)"), (0.60, "restart PostgreSQL"),
          (0.75, "restart Redis with its data removed"))
# How long the hello-world baseline runs before the load.
BASELINE_SECONDS = 3.0


def say(text: str) -> None:
    """Print a timestamped line of the soak's own."""
    print(f"{time.strftime('%H:%M:%S')} soak | {text}", flush=True)


class Sender(threading.Thread):
    """One keep-alive connection sending its share of the posts on schedule, re-sending until answered 2xx."""

    def __init__(self, port: int, requests: list[tuple[float, str, bytes]], load_end: float):
        super().__init__(daemon=True)
        self.port, self.requests, self.load_end = port, requests, load_end
        self.acknowledged: list[str] = []
        self.unanswered = 0
        self.statuses: Counter = Counter()
        self.resends = 0
        self.conn: socket.socket | None = None
        self.buffer = bytearray()

    def run(self) -> None:
        for due, post_id, request in self.requests:
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if self._send_until_answered(request):
                self.acknowledged.append(post_id)
            else:
                self.unanswered += 1
        if self.conn:
            self.conn.close()

    def _send_until_answered(self, request: bytes) -> bool:
        """Send one post, again and again on any failure, until a 2xx or the give-up time."""
        give_up = self.load_end + RESEND_AFTER_END_SECONDS
        while True:
            try:
                if self.conn is None:
                    self.conn = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                    self.conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    self.buffer = bytearray()
                self.conn.sendall(request)
                status = read_response(self.conn, self.buffer)
                self.statuses[status] += 1
                if 200 <= status < 300:
                    return True
            except OSError:
                self.statuses["no answer"] += 1
                if self.conn:
                    self.conn.close()
                self.conn = None
            if time.monotonic() > give_up:
                return False
            self.resends += 1
            time.sleep(0.2)


class Announcements(threading.Thread):
    """Counts `conversation.created` per conversation from the Socket.IO Redis channel, reconnecting
    across Redis restarts (events published while Redis is down are lost to everyone, so this counts
    doubles, not absences)."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url = url
        self.created: Counter = Counter()
        self.stopping = False

    def run(self) -> None:
        while not self.stopping:
            try:
                listener = redis.Redis.from_url(self.url).pubsub(ignore_subscribe_messages=True)
                listener.subscribe("flask-socketio")
                while not self.stopping:
                    message = listener.get_message(timeout=0.5)
                    if message is None:
                        continue
                    event = json.loads(message["data"])
                    if event.get("event") == "conversation.created":
                        for conversation in event["data"][0]["conversations"]:
                            self.created[conversation["id"]] += 1
            except (redis.RedisError, OSError):
                time.sleep(0.5)


def prepare_database(database_url: str, redis_url: str, env: dict):
    """Apply the migrations and add the bench channel and its queues; return an app on that database."""
    flask(env, "db", "upgrade")
    from workspace import create_app
    from workspace.extensions import db
    from workspace.models import Channel, Queue

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url,
                      "RQ_QUEUE": env["SWITCHBOARD_RQ_QUEUE"], "DISPATCHER_ENABLED": False})
    with app.app_context():
        db.session.add(Channel(slug="bench", name="Bench", secret=SECRET))
        for slug, name in (("billing", "Billing"), ("triage", "Triage")):
            if db.session.scalar(sa.select(Queue.id).where(Queue.slug == slug)) is None:
                db.session.add(Queue(slug=slug, name=name))
        db.session.commit()
        db.session.remove()
    return app


def figures(app, run: str) -> dict:
    """Read what the database holds of this run: stored, distinct, conversations, routed, counted."""
    from workspace.extensions import db
    from workspace.models import Conversation, Message, OutboxEntry, VolumeCount

    with app.app_context():
        ids = db.session.scalars(sa.select(Message.external_id).where(Message.external_id.like(f"{run}-%"))).all()
        latest = sa.select(sa.func.max(Message.id)).where(
            Message.conversation_id == Conversation.id, Message.direction == "inbound").scalar_subquery()
        conversations = db.session.scalar(sa.select(sa.func.count()).select_from(Conversation))
        unrouted = db.session.scalar(sa.select(sa.func.count()).select_from(Conversation).where(
            Conversation.routed_message_id.is_distinct_from(latest)))
        outbox = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEntry))
        inbound = db.session.scalar(sa.select(sa.func.count()).select_from(Message)
                                    .where(Message.direction == "inbound"))
        counted = db.session.scalar(sa.select(sa.func.sum(VolumeCount.posts))
                                    .where(VolumeCount.kind == "queue")) or 0
        db.session.remove()
    return {"stored": len(ids), "distinct": len(set(ids)), "ids": set(ids), "conversations": conversations,
            "unrouted": unrouted, "outbox": outbox, "inbound": inbound, "counted": counted}


def counting_starts(start):
    """Wrap a process starter so the number of starts can be read (restarts = starts - 1)."""
    def counted():
        counted.starts += 1
        return start()
    counted.starts = 0
    return counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the paced load (default 10)")
    parser.add_argument("--rate", type=float, default=200.0, help="posts per second (default 200)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, data)")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="switchboard-soak-")
    os.chmod(workdir, 0o755)
    seconds = args.minutes * 60
    say(f"folder {workdir}; {args.rate:.0f} posts/s for {args.minutes:g} min")

    bindir = postgres_bindir()
    pg = None
    if bindir:
        pg = Postgres(bindir, os.path.join(workdir, "pg"))
        database_url = pg.url
        say(f"PostgreSQL from {bindir} on port {pg.port}")
    else:
        database_url = f"sqlite:///{workdir}/soak.db"
        say("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb): running on SQLite; "
            "the PostgreSQL restart is skipped")
    redis_server = Redis(os.path.join(workdir, "redis"))
    port, env = process_environment(workdir, "soak", database_url, redis_server.url)
    env.update(PROMETHEUS_MULTIPROC_DIR=os.path.join(workdir, "prometheus"), SWITCHBOARD_LOG_FORMAT="json")
    os.makedirs(env["PROMETHEUS_MULTIPROC_DIR"])
    app = prepare_database(database_url, redis_server.url, env)

    logs = {name: open(os.path.join(workdir, f"{name}.log"), "a") for name in ("web", "worker", "scheduler")}
    supervised = {name: Supervised(name, counting_starts(
        lambda name=name: start_process(name, env, stdout=logs[name], stderr=logs[name])))
        for name in ("web", "worker", "scheduler")}
    stopping = threading.Event()

    def supervise():
        while not stopping.is_set():
            for process in supervised.values():
                process.check()
            time.sleep(0.2)

    supervisor = threading.Thread(target=supervise, daemon=True)
    announcements = Announcements(redis_server.url)
    try:
        if not wait_healthy(f"http://127.0.0.1:{port}"):
            sys.exit(f"the web process did not become healthy (see {workdir}/web.log)")
        # The same-run baseline: how fast this machine answers GET /ping now (it says how busy the machine is).
        hello = run_load(port, [build_request("GET", "/ping")] * 100_000, BASELINE_SECONDS)["per_second"]
        supervisor.start()
        announcements.start()
        run = uuid.uuid4().hex[:8]
        total = int(seconds * args.rate)
        say(f"rendering {total} signed posts")
        started = time.monotonic() + 1.0
        load_end = started + seconds
        schedule = [(started + n / args.rate, f"{run}-{n}", signed(json.dumps(post(n, run)).encode()))
                    for n in range(total)]
        senders = [Sender(port, schedule[index::SENDERS], load_end) for index in range(SENDERS)]
        for sender in senders:
            sender.start()
        kills = Counter()
        for fraction, fault in FAULTS:
            time.sleep(max(0.0, started + fraction * seconds - time.monotonic()))
            say(f"fault: {fault}")
            if "worker" in fault or "web" in fault:
                name = "worker" if "worker" in fault else "web"
                os.killpg(supervised[name].child.pid, signal.SIGKILL)
                kills[name] += 1
            elif "Redis" in fault:
                redis_server.restart(keep_data="keeping" in fault)
            elif pg is not None:
                pg.restart()
            else:
                say("  (skipped: no PostgreSQL)")
        for sender in senders:
            sender.join()
        ended = time.monotonic()
        say(f"load done in {ended - started:.0f} s; waiting for the backlog to drain")
        drain_seconds = None
        while time.monotonic() - ended < 3 * DRAIN_TARGET_SECONDS:  # from the last post's answer
            try:
                now = figures(app, run)
            except sa.exc.SQLAlchemyError:
                now = None
            if now and now["unrouted"] == 0 and now["outbox"] == 0:
                drain_seconds = time.monotonic() - ended
                break
            time.sleep(1.0)
        time.sleep(2.0)  # announcements published just before the last commit
        result = figures(app, run)
        dead = [name for name, process in supervised.items() if process.child.poll() is not None]
        dead += ["redis"] if redis_server.process.poll() is not None else []
        dead += ["postgresql"] if pg is not None and not pg.alive() else []
    finally:
        stopping.set()
        announcements.stopping = True
        stop_all([process.child for process in supervised.values()])
        redis_server.process.terminate()
        if pg is not None:
            pg.stop()
        for handle in logs.values():
            handle.close()

    sent = sum(len(sender.requests) for sender in senders)
    acknowledged = sum(len(sender.acknowledged) for sender in senders)
    lost = sum(post_id not in result["ids"] for sender in senders for post_id in sender.acknowledged)
    statuses = sum((sender.statuses for sender in senders), Counter())
    announced_twice = sum(1 for times in announcements.created.values() if times > 1)
    doubled = (result["stored"] - result["distinct"]) + announced_twice + max(0, result["counted"] - result["inbound"])
    restarts = {name: process.start.starts - 1 for name, process in supervised.items()}
    unexpected = {name: restarts[name] - kills[name] for name in restarts if restarts[name] > kills[name]}
    print()
    print(f"soak: {args.minutes:g} min at {args.rate:.0f} posts/s on "
          f"{'PostgreSQL' if pg else 'SQLite'}, {SENDERS} senders; faults: {', '.join(f for _, f in FAULTS)}")
    print(f"sent                {sent:9d}   (achieved {sent / max(1e-9, ended - started):.0f} posts/s; same-run "
          f"baseline: GET /ping {hello:.0f} req/s, closed loop)")
    print(f"acknowledged (2xx)  {acknowledged:9d}   unanswered: {sent - acknowledged}   "
          f"re-sends: {sum(s.resends for s in senders)}   answers: {dict(statuses)}")
    print(f"stored              {result['stored']:9d}   (distinct post ids {result['distinct']})")
    print(f"lost                {lost:9d}   (acknowledged but not stored; target 0)")
    print(f"doubled             {doubled:9d}   (target 0: stored twice {result['stored'] - result['distinct']}, "
          f"announced twice {announced_twice}, volume counts {result['counted']} for {result['inbound']} "
          f"inbound messages)")
    print(f"routed              {result['conversations'] - result['unrouted']:9d} of {result['conversations']} "
          f"conversations; outbox left {result['outbox']}")
    print(f"time to drain       {f'{drain_seconds:9.1f} s' if drain_seconds is not None else '  not done'} "
          f"after the last post was answered (target <= {DRAIN_TARGET_SECONDS:.0f} s)")
    print(f"restarts            {restarts}   (killed on purpose: {dict(kills)}; died on their own: "
          f"{unexpected or 'none'})")
    print(f"left dead           {', '.join(dead) if dead else 'none'}")
    if args.keep:
        print(f"logs and data kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
