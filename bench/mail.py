"""Email ingest over SMTP from 10 concurrent senders, with the native webhook in the same run as baseline.

Starts Redis (unless REDIS_URL is set), a fresh SQLite database, and the
Procfile's web and smtp processes; measures signed single-post native webhooks
from 10 connections, then mail over SMTP from 10 concurrent senders (each a
process of its own on one connection, many messages; one `flask smtp`, then
two sharing the port), then one message carrying a 10 MB attachment.

The listener receives now and reads later: 250 means the raw message is
committed to the spool, and a worker's job turns it into the conversation. So
the figures are kept apart: (a) the SMTP rate, 250s per second, measured with
no worker running (the listener alone; the spool fills up); (b) the drain: the
Procfile's worker is then started on that backlog, and its rate is the messages
it stored over the time from its first read job's start to its last one's end
(RQ's timestamps), with the wall time from the worker's start until the spool
was empty beside it. Then mail at a steady 50 messages/s with the worker
running: each message's SMTP send started -> its `conversation.created`
(routed to a queue) arriving in a console connected over Socket.IO
(bench/consoles.py), matched by the message's subject, since the 250 names the
spool row; p50/p99/max, and where the time went (send -> 250, 250 -> read job
started, read job; then the routing jobs' RQ timestamps). The machine's load
average is printed: the figures are only comparable within one run. Every
message answered 250 is counted in the database afterwards (zero lost).

Usage: .venv/bin/python bench/mail.py [--seconds 8] [--rate 50]
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The project's root first on the path, for its packages (named mail.py, not email.py: a script's folder comes
# first on the path, and a bench/email.py would hide the standard library's `email` from every bench script).
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import smtplib  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from email.message import EmailMessage  # noqa: E402
from email.policy import SMTP  # noqa: E402

import sqlalchemy as sa  # noqa: E402
from redis import Redis  # noqa: E402
from rq import Queue as RqQueue  # noqa: E402
from rq.job import Job  # noqa: E402

from bench.consoles import run_consoles  # noqa: E402
from bench.http_load import build_request, run_load  # noqa: E402
from bench.live import paced, print_stages  # noqa: E402
from bench.stack import bench_stack  # noqa: E402
from devstack.launcher import start_process, stop_process, wait_healthy  # noqa: E402
from devstack.localredis import free_port  # noqa: E402
from workspace import create_app  # noqa: E402
from workspace.channels.signature import sign  # noqa: E402
from workspace.extensions import db  # noqa: E402
from workspace.models import Agent, ApiToken, Channel, Conversation, Message, Queue, SpooledEmail  # noqa: E402

SECRET = "bench-secret"
SENDERS = 10
ADDRESS = "support@bench.example"


def native(number: int, run: str) -> bytes:
    """One signed native post, rendered to a request."""
    body = json.dumps({"id": f"{run}-{number}", "author": {"id": f"user-{number % 5000}",
                                                           "handle": f"user{number % 5000}"},
                       "text": f"my card was charged twice for order {number}, please refund"}).encode()
    return build_request("POST", "/webhooks/bench", body, {
        "Content-Type": "application/json", "X-Switchboard-Signature": sign(SECRET, body)})


def subject_of(number: int) -> str:
    """The subject of message `number` (unique within a phase: the console matches on it)."""
    return f"Order {number} charged twice"


def mail(number: int, run: str, attachment: bytes | None = None) -> bytes:
    """One customer email with a unique Message-ID."""
    message = EmailMessage()
    message["From"] = f"Customer {number % 5000} <customer{number % 5000}@mail.example>"
    message["To"], message["Subject"] = ADDRESS, subject_of(number)
    message["Message-ID"] = f"<{run}-{number}@mail.example>"
    message.set_content(f"Hello,\n\nmy card was charged twice for order {number}, please refund.\n\nThanks")
    if attachment is not None:
        message.add_attachment(attachment, maintype="application", subtype="pdf", filename="statement.pdf")
    return message.as_bytes(policy=SMTP)


def sender(port: int, run: str, index: int, deadline: float) -> tuple[int, int]:
    """One sender (its own process, as each MTA is): mail over one connection until the deadline (a
    time.time()); returns (accepted, refused). Each message is built before the clock for it starts."""
    counts, number = [0, 0], index
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        message = mail(number, run)
        while time.time() < deadline:
            try:
                client.sendmail(f"customer{number % 5000}@mail.example", [ADDRESS], message)
                counts[0] += 1
            except smtplib.SMTPException:
                counts[1] += 1
            number += SENDERS
            message = mail(number, run)
    return counts[0], counts[1]


def smtp_load(port: int, run: str, seconds: float) -> tuple[int, int, float]:
    """Send mail from SENDERS processes for `seconds`; return (accepted, refused, elapsed)."""
    context = multiprocessing.get_context("fork")
    with context.Pool(SENDERS) as pool:
        pool.map(time.sleep, [0] * SENDERS)  # the processes are up before the clock starts
        started = time.monotonic()
        deadline = time.time() + seconds
        results = pool.starmap(sender, [(port, run, index, deadline) for index in range(SENDERS)])
        elapsed = time.monotonic() - started
    return sum(ok for ok, _ in results), sum(refused for _, refused in results), elapsed


def paced_visibility(smtp_port: int, web_port: int, token: str, run: str, rate: float, seconds: float,
                     ) -> tuple[dict[str, float], dict[str, float], dict[int, float], dict[str, list[float]]]:
    """Send `rate` messages/s for `seconds` over SMTP while a console listens over Socket.IO; return, by the
    message's subject, when its send started and when it was answered 250, each spool id's 250 time, and
    its `conversation.created` arrivals in the console (within 30 s after the last send)."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    console = context.Process(target=run_consoles, args=(f"http://127.0.0.1:{web_port}", token, 1, child, "subject"),
                              daemon=True)
    console.start()
    if not parent.poll(60) or parent.recv() != "ready":
        sys.exit("the console did not connect")
    sent: dict[str, float] = {}  # subject -> send started (wall clock, as the console records)
    answered: dict[str, float] = {}  # subject -> 250 heard
    spooled: dict[int, float] = {}  # spool id -> 250 heard
    clients, local, lock = [], threading.local(), threading.Lock()

    def send(number: int) -> None:
        if not hasattr(local, "client"):
            local.client = smtplib.SMTP("127.0.0.1", smtp_port, timeout=60)
            local.client.ehlo()
            with lock:
                clients.append(local.client)
        began = time.time()
        local.client.mail(f"customer{number}@mail.example")
        local.client.rcpt(ADDRESS)
        code, answer = local.client.data(mail(number, run))
        if code == 250:  # "2.0.0 OK: queued as <spool id>"
            subject = subject_of(number)
            sent[subject], answered[subject] = began, time.time()
            spooled[int(answer.split()[-1])] = answered[subject]

    try:
        paced(rate, seconds, send)
        parent.send(("expect", list(sent), 30))
        arrivals = parent.recv()
        parent.send("stop")
        console.join(timeout=10)
    finally:
        for client in clients:
            client.close()
        if console.is_alive():
            console.terminate()
    return sent, answered, spooled, arrivals


def read_jobs(redis_url: str, queue_name: str) -> list[Job]:
    """The finished jobs that read spooled mail."""
    connection = Redis.from_url(redis_url)
    queue = RqQueue(queue_name, connection=connection)
    jobs = [job for job in Job.fetch_many(queue.finished_job_registry.get_job_ids(), connection=connection)
            if job is not None and job.func_name.endswith("read_spooled_mail")]
    connection.close()
    return jobs


def print_read_stages(redis_url: str, queue_name: str, sent: dict, answered: dict, spooled: dict) -> None:
    """Where the time before routing went: send started -> 250, 250 -> read job started, the read job."""
    stages: dict[str, list[float]] = {"send -> 250": [answered[s] - sent[s] for s in sent],
                                      "250 -> read job started": [], "read job": []}
    for job in read_jobs(redis_url, queue_name):
        started, ended = job.started_at.timestamp(), job.ended_at.timestamp()
        for spool_id in job.args[0]:
            if spool_id in spooled:
                stages["250 -> read job started"].append(started - spooled[spool_id])
                stages["read job"].append(ended - started)
    print("  before routing: " + ";  ".join(f"{name} {percentile(sorted(values), 0.5) * 1000:.0f} / "
                                            f"{percentile(sorted(values), 0.99) * 1000:.0f} ms"
                                            for name, values in stages.items() if values), flush=True)


def spool_size(app) -> int:
    """Messages spooled and not yet read."""
    with app.app_context():
        size = db.session.scalar(sa.select(sa.func.count()).select_from(SpooledEmail))
        db.session.remove()
        return size


def announced(path: str, text: str, seconds: float = 60) -> bool:
    """Whether a process's log says `text` within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with open(path) as log:
            if text in log.read():
                return True
        time.sleep(0.1)
    return False


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the sorted values lie."""
    return values[min(len(values) - 1, int(share * len(values)))] if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each measured phase")
    parser.add_argument("--rate", type=float, default=50.0, help="messages/s of the visibility phase")
    parser.add_argument("--smtp-processes", type=int, default=2,
                        help="measure SMTP ingest with 1, then 2, ... up to this many `flask smtp` on one port")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="switchboard-bench-email-")
    smtp_port = free_port()
    redis_process, env = bench_stack(workdir, SWITCHBOARD_SMTP_PORT=str(smtp_port), SWITCHBOARD_SMTP_SHARED_PORT="1",
                                     SWITCHBOARD_EMAIL_FLOOD_MESSAGES="1000000")
    redis_url, port = env["REDIS_URL"], int(env["PORT"])
    app = create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"], "REDIS_URL": redis_url,
                      "RQ_QUEUE": env["SWITCHBOARD_RQ_QUEUE"], "DISPATCHER_ENABLED": False})
    with app.app_context():
        db.create_all()
        db.session.add_all([Channel(slug="bench", name="Bench", secret=SECRET, settings={"rate_limit": 100_000}),
                            Channel(slug="mail", name="Mail", kind="email", secret=SECRET,
                                    settings={"address": ADDRESS}),
                            Queue(slug="triage", name="Triage")])
        agent = Agent(email="bench@example.com", name="Bench", role="admin")
        row, token = ApiToken.issue(agent, "bench")
        db.session.add_all([agent, row])
        db.session.commit()
    logs = {name: open(os.path.join(workdir, f"{name}.log"), "w") for name in ("web", "smtp")}
    processes = [start_process(name, env, stdout=log, stderr=log) for name, log in logs.items()]
    run = uuid.uuid4().hex[:6]
    try:
        if not wait_healthy(f"http://127.0.0.1:{port}"):
            sys.exit("the web process did not become healthy")
        for _ in range(600):
            try:
                smtplib.SMTP("127.0.0.1", smtp_port, timeout=2).quit()
                break
            except OSError:
                time.sleep(0.1)
        singles = [native(n, run) for n in range(60_000)]
        run_load(port, singles[:500], 1.0, processes=1, connections=SENDERS)  # warm up
        webhook = run_load(port, singles[500:], args.seconds, processes=1, connections=SENDERS)
        smtp_load(smtp_port, run + "w", 1.0)  # warm up
        rates, accepted = {}, 0
        for listeners in range(1, args.smtp_processes + 1):
            if listeners > 1:  # one more `flask smtp` on the same port (SO_REUSEPORT)
                logs[f"smtp{listeners}"] = open(os.path.join(workdir, f"smtp{listeners}.log"), "w")
                processes.append(start_process("smtp", env, stdout=logs[f"smtp{listeners}"],
                                               stderr=logs[f"smtp{listeners}"]))
                if not announced(os.path.join(workdir, f"smtp{listeners}.log"), "SMTP listener on"):
                    sys.exit(f"smtp process {listeners} did not start listening")
                smtp_load(smtp_port, run + f"w{listeners}", 1.0)
            phase = smtp_load(smtp_port, f"{run}-{listeners}", args.seconds)
            rates[listeners] = phase
            accepted += phase[0]
        big = mail(0, run + "big", attachment=os.urandom(10 * 1024 * 1024))
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=60) as client:
            started = time.perf_counter()
            client.sendmail("big@mail.example", [ADDRESS], big)
            big_seconds = time.perf_counter() - started
        queue_name = env["SWITCHBOARD_RQ_QUEUE"]
        backlog = spool_size(app)
        logs["worker"] = open(os.path.join(workdir, "worker.log"), "w")
        worker_started = time.monotonic()
        processes.append(start_process("worker", env, stdout=logs["worker"], stderr=logs["worker"]))
        while spool_size(app) and time.monotonic() - worker_started < 1800:
            time.sleep(0.2)
        drain_wall = time.monotonic() - worker_started
        jobs = read_jobs(redis_url, queue_name)
        drain_seconds = (max(job.ended_at for job in jobs) - min(job.started_at for job in jobs)).total_seconds()
        drained = sum(sum(job.return_value()[k] for k in ("stored", "duplicates", "suspended", "unreadable"))
                      for job in jobs)
        with app.app_context():  # the earlier phases' conversations routed first: the phase starts clean
            for _ in range(3000):
                if not db.session.scalar(sa.select(sa.func.count()).select_from(Conversation)
                                         .where(Conversation.status == "new")):
                    break
                db.session.rollback()
                time.sleep(0.1)
        sent, answered, spooled, arrivals = paced_visibility(smtp_port, port, token, run + "v", args.rate,
                                                             args.seconds)
        print_read_stages(redis_url, queue_name, sent, answered, spooled)
        with app.app_context():  # the routing jobs' stages are kept by conversation id
            ids = dict(db.session.execute(sa.select(Conversation.subject, Conversation.id).where(
                Conversation.subject.in_(list(sent)))).all())
        print_stages(redis_url, queue_name, {ids[s]: sent[s] for s in sent if s in ids},
                     {ids[s]: arrivals[s] for s in arrivals if s in ids}, "send started")
        latencies = sorted(arrivals[s][0] - sent[s] for s in sent if arrivals.get(s))
        invisible = len(sent) - len(latencies)
        load = os.getloadavg()[0]
        with app.app_context():
            stored = db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
                Message.external_id.like(f"{run}-_-%@mail.example")))
    finally:
        for process in processes:
            stop_process(process)
        if redis_process:
            redis_process.terminate()
    webhook_rate = webhook["statuses"].get(202, 0) / webhook["seconds"]
    print(f"{SENDERS} concurrent senders, {args.seconds:.0f} s per phase, SQLite, one web process")
    print(f"native single-post webhook  {webhook_rate:9.0f} posts/s    statuses {webhook['statuses']}")
    for listeners, (ok, refused, elapsed) in rates.items():
        smtp_rate = ok / elapsed
        print(f"(a) SMTP accepted and spooled (250s/s, no worker running), {listeners} smtp "
              f"process{'es' if listeners > 1 else '  '} {smtp_rate:6.0f} messages/s  refused: {refused}  "
              f"ratio to the webhook {smtp_rate / webhook_rate:4.2f}  (goals >= 500/s on 2 cores, ratio >= 0.30)")
    print(f"(b) drain: one worker read {drained} spooled messages into conversations in {drain_seconds:.1f} s "
          f"of read jobs = {drained / drain_seconds:.0f} messages/s (backlog {backlog}; {drain_wall:.1f} s "
          f"from the worker's start, its start-up included, until the spool was empty)")
    print(f"answered 250 / stored       {accepted:9d} / {stored}   lost: {accepted - stored}")
    print(f"one message with a 10 MB attachment: 250 after {big_seconds:.2f} s (goal < 1 s)")
    print(f"received -> in a console (Socket.IO) at {args.rate:.0f} messages/s, through the read job and "
          f"routing: p50 {percentile(latencies, 0.5) * 1000:.0f} ms  p99 {percentile(latencies, 0.99) * 1000:.0f} ms"
          f"  max {max(latencies, default=float('nan')) * 1000:.0f} ms  ({len(latencies)} messages, "
          f"{invisible} not in the console within 30 s; goal p99 <= 1000 ms)")
    print(f"load average (1 min) at the end: {load:.1f} on {os.cpu_count()} cores (the machine is shared)")


if __name__ == "__main__":
    main()
