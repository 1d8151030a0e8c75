"""Bulk: a macro that replies, tags and resolves, applied to 10,000 conversations through a real worker.

Starts Redis (unless REDIS_URL is set), a fresh SQLite database holding N open
conversations in one queue, the Procfile's web (gunicorn) and worker, and a
Socket.IO client signed in as the agent. It then starts the bulk action over
the API ("all N matching this filter") and measures until the `bulk.progress`
event saying "finished" arrives: elapsed time, conversations/s and the
progress events received. The baseline from the same run is the same N
conversations tagged and resolved by one plain SQL UPDATE (no replies, no
audit, no events), then put back.

Usage: .venv/bin/python bench/bulk.py [--conversations 10000]
"""

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import socketio  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench.stack import bench_stack  # noqa: E402
from devstack.launcher import start_process, stop_process, wait_healthy  # noqa: E402

MACRO = {"name": "Outage", "scope": "global",
         "template": "Hi {{ author.first_name | default('there') }}, we know about the login outage and are on it. "
                     "Updates: https://status.example.com  {{ agent.first_name }}",
         "actions": [{"type": "reply"}, {"type": "add_tags", "tags": ["outage"]},
                     {"type": "status", "status": "resolved"}]}


def seed(app, count: int) -> str:
    """N open conversations (each with its customer and post) in queue 'tech'; returns an admin's API token."""
    from workspace.extensions import db
    from workspace.models import Agent, ApiToken, Author, Channel, Conversation, Message, Queue, utcnow

    with app.app_context():
        db.create_all()
        channel, queue = Channel(slug="forum", name="Forum"), Queue(slug="tech", name="Tech")
        agent = Agent(email="ada@example.com", name="Ada Admin", role="admin")
        row, token = ApiToken.issue(agent, "bench")
        db.session.add_all([channel, queue, agent, row])
        db.session.commit()
        now = utcnow()
        db.session.execute(sa.insert(Author), [
            {"channel_id": channel.id, "external_id": f"u{n}", "handle": f"user{n}", "name": f"Name{n} Person",
             "tags": ["vip"] if n % 50 == 0 else [], "created_at": now, "updated_at": now} for n in range(count)])
        author_ids = db.session.scalars(sa.select(Author.id).order_by(Author.id)).all()
        db.session.execute(sa.insert(Conversation), [
            {"channel_id": channel.id, "author_id": author_id, "queue_id": queue.id, "status": "open",
             "subject": f"Cannot log in ({n})", "tags": [], "waiting_since": now, "created_at": now,
             "updated_at": now, "last_message_at": now} for n, author_id in enumerate(author_ids)])
        conversation_ids = db.session.scalars(sa.select(Conversation.id).order_by(Conversation.id)).all()
        db.session.execute(sa.insert(Message), [
            {"conversation_id": cid, "channel_id": channel.id, "author_id": aid, "direction": "inbound",
             "external_id": f"p{cid}", "text": "I cannot log in since this morning", "created_at": now,
             "received_at": now} for cid, aid in zip(conversation_ids, author_ids, strict=True)])
        db.session.commit()
        return token


def baseline(app) -> float:
    """Seconds for one plain UPDATE tagging and resolving every open conversation (then put back)."""
    from workspace.extensions import db
    from workspace.models import Conversation

    with app.app_context():
        started = time.perf_counter()
        db.session.execute(sa.update(Conversation).where(Conversation.status == "open")
                           .values(status="resolved", tags=["outage"]))
        db.session.commit()
        elapsed = time.perf_counter() - started
        db.session.execute(sa.update(Conversation).values(status="open", tags=[]))
        db.session.commit()
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="switchboard-bulk-")
    redis_process, env = bench_stack(workdir)
    redis_url, port = env["REDIS_URL"], int(env["PORT"])
    from workspace import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"], "REDIS_URL": redis_url,
                      "DISPATCHER_ENABLED": False, "SECRET_KEY": env["SWITCHBOARD_SECRET_KEY"]})
    token = seed(app, args.conversations)
    base_seconds = baseline(app)
    log = open(os.path.join(workdir, "processes.log"), "w")
    processes = [start_process(name, env, stdout=log, stderr=log) for name in ("web", "worker")]
    base = f"http://127.0.0.1:{port}"
    progress, finished = [], threading.Event()
    client = socketio.Client(reconnection=False)

    def on_progress(data):
        progress.append((time.perf_counter(), data))
        if data["state"] in ("finished", "failed"):
            finished.set()

    client.on("bulk.progress", on_progress)
    try:
        if not wait_healthy(base):
            sys.exit(f"server did not become healthy; see {workdir}/processes.log")
        client.connect(base, auth={"token": token}, transports=["websocket"], wait_timeout=10)
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        macro = session.post(f"{base}/api/v1/macros", json=MACRO, timeout=30).json()
        started = time.perf_counter()
        response = session.post(f"{base}/api/v1/bulk", timeout=120, json={
            "kind": "macro", "macro_id": macro["id"], "filter": {"queue": "tech", "status": "open"}})
        accepted = time.perf_counter()
        if response.status_code != 202:
            sys.exit(f"bulk refused: {response.status_code} {response.text}")
        if not finished.wait(timeout=300):
            sys.exit(f"no 'finished' progress event within 300 s; see {workdir}/processes.log")
        elapsed = progress[-1][0] - started
        final = progress[-1][1]
    finally:
        client.disconnect()
        for process in processes:
            stop_process(process)
        if redis_process:
            redis_process.terminate()

    gaps = [later - earlier for (earlier, _), (later, _) in zip(progress, progress[1:], strict=False)]
    print(f"{args.conversations} conversations; macro: reply + add tag + resolve; one worker, SQLite, real Redis")
    print(f"baseline: one plain UPDATE tagging and resolving them all: {base_seconds:.2f} s")
    print(f"bulk (API accepted in {accepted - started:.2f} s) -> 'finished' event: {elapsed:.2f} s, "
          f"{final['done'] / elapsed:.0f} conversations/s  (goal <= 20 s)")
    print(f"done {final['done']}, skipped {final['skipped']}, failed {final['failed']}; "
          f"progress events received {len(progress)}, longest gap between them {max(gaps, default=0):.2f} s")


if __name__ == "__main__":
    main()
