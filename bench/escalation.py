"""Escalation: what one click costs, and tickets made per second end to end, with the baseline of the same run.

Processes as the Procfile runs them (gunicorn web, one RQ worker, the ticketing
stub) on a fresh SQLite file and a private Redis. Baseline: the stub's own
create rate, Switchboard's client calling it directly, one ticket at a time.
Then N clicks (`POST /api/v1/conversations/<id>/escalate`, one at a time):
their latency, and the time from the first click until every ticket exists.

Usage: .venv/bin/python bench/escalation.py [--conversations 200]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from devstack.launcher import start_process, stop_process, wait_healthy  # noqa: E402
from devstack.localredis import free_port, start_redis  # noqa: E402
from workspace.services.escalation.client import TicketingClient  # noqa: E402

EMAIL, TOKEN = "bench@example.com", uuid.uuid4().hex


def seed(url: str, redis_url: str, count: int) -> str:
    """Create the schema, an admin with an API token and `count` open conversations; return the token."""
    from workspace import create_app
    from workspace.extensions import db
    from workspace.models import Agent, ApiToken, Author, Channel, Conversation, Message, Queue, utcnow

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url, "SECRET_KEY": "bench",
                      "DISPATCHER_ENABLED": False})
    with app.app_context():
        db.create_all()
        channel, queue = Channel(slug="forum", name="Forum", secret="s"), Queue(slug="billing", name="Billing")
        agent = Agent(email="ada@example.com", name="Ada", role="admin")
        token, secret = ApiToken.issue(agent, "bench")
        db.session.add_all([channel, queue, agent, token])
        db.session.flush()
        for n in range(count):
            author = Author(channel_id=channel.id, external_id=f"u{n}", handle=f"u{n}", name=f"Customer {n}")
            db.session.add(author)
            db.session.flush()
            conversation = Conversation(channel_id=channel.id, author_id=author.id, queue_id=queue.id,
                                        status="open", subject=f"Charged twice #{n}")
            db.session.add(conversation)
            db.session.flush()
            now = utcnow()
            db.session.add(Message(conversation_id=conversation.id, channel_id=channel.id, author_id=author.id,
                                   external_id=f"p{n}", text="I was charged twice this month, please refund me.",
                                   created_at=now, received_at=now))
        db.session.commit()
        db.engine.dispose()
    return secret


def created(url: str) -> int:
    """How many escalations have their ticket."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        value = connection.execute(sa.text("SELECT count(*) FROM escalations WHERE state = 'created'")).scalar()
    engine.dispose()
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=200)
    count = parser.parse_args().conversations
    workdir = Path(tempfile.mkdtemp(prefix="switchboard-escalation-"))
    redis_process, redis_url = start_redis(str(workdir / "redis"))
    database = f"sqlite:///{workdir}/bench.db"
    api_token = seed(database, redis_url, count)
    web_port, stub_port = free_port(), free_port()
    stub_url, base = f"http://127.0.0.1:{stub_port}", f"http://127.0.0.1:{web_port}"
    env = dict(os.environ, DATABASE_URL=database, REDIS_URL=redis_url, PORT=str(web_port),
               SWITCHBOARD_SECRET_KEY=uuid.uuid4().hex, SWITCHBOARD_RQ_QUEUE="bench-escalation",
               SWITCHBOARD_TICKETING_URL=stub_url, SWITCHBOARD_TICKETING_EMAIL=EMAIL, SWITCHBOARD_TICKETING_TOKEN=TOKEN,
               TICKETS_PORT=str(stub_port), TICKETS_DATABASE=str(workdir / "tickets.db"), TICKETS_API_EMAIL=EMAIL,
               TICKETS_API_TOKEN=TOKEN, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    log = open(workdir / "processes.log", "w")
    processes = [start_process(name, env, stdout=log, stderr=log) for name in ("tickets", "web")]
    try:
        if not (wait_healthy(stub_url) and wait_healthy(base)):
            sys.exit(f"processes did not start; see {workdir}/processes.log")
        client = TicketingClient(stub_url, email=EMAIL, token=TOKEN)
        started = time.perf_counter()
        for n in range(count):
            client.create_ticket({"subject": f"baseline {n}", "comment": {"body": "baseline", "public": False},
                                  "external_id": f"baseline-{n}"})
        baseline = count / (time.perf_counter() - started)
        print(f"baseline: the stub creating tickets, one at a time  {baseline:8,.0f} tickets/s")

        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {api_token}"

        def clicks(label: str, method: str, path: str, status: int, **kwargs) -> None:
            """Call path (with {id}) once per conversation, one at a time; print the latencies."""
            latencies = []
            first = time.perf_counter()
            for conversation_id in range(1, count + 1):
                started = time.perf_counter()
                response = session.request(method, f"{base}/api/v1{path.format(id=conversation_id)}", timeout=10,
                                           **kwargs)
                latencies.append(time.perf_counter() - started)
                assert response.status_code == status, response.text
            rate = count / (time.perf_counter() - first)
            latencies.sort()
            print(f"{label:44}p50 {statistics.median(latencies) * 1000:6.1f} ms"
                  f"   p99 {latencies[int(len(latencies) * 0.99) - 1] * 1000:6.1f} ms   ({rate:,.0f}/s)")

        clicks("baseline: set priority (audited, live)", "PATCH", "/conversations/{id}", 200,
               json={"priority": "high"})
        # Queued, not worked: the worker starts after the clicks.
        clicks("one click: escalate (202)", "POST", "/conversations/{id}/escalate", 202)
        processes.append(start_process("worker", env, stdout=log, stderr=log))
        booted = time.perf_counter()
        while not (first := created(database)) and time.perf_counter() - booted < 60:
            time.sleep(0.01)
        started = time.perf_counter()  # from the first ticket on, so the worker's start-up is not counted
        while created(database) < count and time.perf_counter() - started < 300:
            time.sleep(0.05)
        made, elapsed = created(database) - first, time.perf_counter() - started
        tickets = requests.get(f"{stub_url}/api/v2/tickets.json", auth=(f"{EMAIL}/token", TOKEN), timeout=10).json()
        print(f"worker: tickets created end to end          {made / elapsed:8,.0f} tickets/s"
              f"   ({made} more after the first in {elapsed:.1f} s; {made / elapsed / baseline:.0%} of the baseline;"
              f" {tickets['count'] - count} in the stub for {count} clicks)")
    finally:
        for process in reversed(processes):
            stop_process(process)
        log.close()
        redis_process.terminate()


if __name__ == "__main__":
    main()
