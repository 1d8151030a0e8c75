"""Email ingest over SMTP from 10 concurrent senders, with the native webhook in the same run as baseline.

Starts Redis (unless REDIS_URL is set), a fresh SQLite database, and the
Procfile's web and smtp processes; measures signed single-post native webhooks
from 10 connections, then mail over SMTP from 10 concurrent senders (each a
process of its own on one connection, many messages; one `flask smtp`, then
two sharing the port), then one message carrying a 10 MB attachment,
then mail at a steady 50 messages/s with the Procfile's worker routing it:
each message's SMTP send started -> its `conversation.created` (routed to a
queue) arriving in a console connected over Socket.IO (bench/consoles.py; the
conversation id taken from the 250 answer), p50/p99/max, and where the time
went by the routing jobs' RQ timestamps. The machine's load average is
printed: the figures are only comparable within one run.
Every message answered 250 is counted in the database afterwards (zero lost).

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

from bench.consoles import run_consoles  # noqa: E402
from bench.http_load import build_request, run_load  # noqa: E402
from bench.live import paced, print_stages  # noqa: E402
from bench.stack import bench_stack  # noqa: E402
from devstack.launcher import start_process, stop_process, wait_healthy  # noqa: E402
from devstack.localredis import free_port  # noqa: E402
from workspace import create_app  # noqa: E402
from workspace.channels.signature import sign  # noqa: E402
from workspace.extensions import db  # noqa: E402
from workspace.models import Agent, ApiToken, Channel, Conversation, Message, Queue  # noqa: E402

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


def mail(number: int, run: str, attachment: bytes | None = None) -> bytes:
    """One customer email with a unique Message-ID."""
    message = EmailMessage()
    message["From"] = f"Customer {number % 5000} <customer{number % 5000}@mail.example>"
    message["To"], message["Subject"] = ADDRESS, f"Order {number} charged twice"
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
                     stages) -> tuple[list[float], int]:
    """Send `rate` messages/s for `seconds` over SMTP while a console listens over Socket.IO; return each
    message's send started -> `conversation.created` in the console latency, and how many never arrived
    within 30 s. `stages(sent, arrivals)` prints where the time went."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    console = context.Process(target=run_consoles, args=(f"http://127.0.0.1:{web_port}", token, 1, child),
                              daemon=True)
    console.start()
    if not parent.poll(60) or parent.recv() != "ready":
        sys.exit("the console did not connect")
    sent: dict[int, float] = {}  # conversation id -> send started (wall clock, as the console records)
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
        if code == 250 and answer.split()[-1].isdigit():
            sent[int(answer.split()[-1])] = began

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
    stages(sent, arrivals)
    latencies = sorted(arrivals[c][0] - sent[c] for c in sent if arrivals.get(c))
    return latencies, len(sent) - len(latencies)


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
        logs["worker"] = open(os.path.join(workdir, "worker.log"), "w")
        processes.append(start_process("worker", env, stdout=logs["worker"], stderr=logs["worker"]))
        with app.app_context():  # the earlier phases' conversations routed first: the phase starts clean
            for _ in range(3000):
                if not db.session.scalar(sa.select(sa.func.count()).select_from(Conversation)
                                         .where(Conversation.status == "new")):
                    break
                db.session.rollback()
                time.sleep(0.1)
        latencies, invisible = paced_visibility(
            smtp_port, port, token, run + "v", args.rate, args.seconds,
            lambda sent, arrivals: print_stages(redis_url, env["SWITCHBOARD_RQ_QUEUE"], sent, arrivals,
                                                    "send started"))
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
        print(f"email over SMTP, {listeners} smtp process{'es' if listeners > 1 else '  '} {smtp_rate:6.0f} "
              f"messages/s refused: {refused}  ratio to the webhook {smtp_rate / webhook_rate:4.2f}  "
              f"(goals >= 500/s on 2 cores, ratio >= 0.30)")
    print(f"answered 250 / stored       {accepted:9d} / {stored}   lost: {accepted - stored}")
    print(f"one message with a 10 MB attachment: 250 after {big_seconds:.2f} s (goal < 1 s)")
    print(f"received -> in a console (Socket.IO) at {args.rate:.0f} messages/s: p50 "
          f"{percentile(latencies, 0.5) * 1000:.0f} ms  p99 {percentile(latencies, 0.99) * 1000:.0f} ms  "
          f"max {max(latencies, default=float('nan')) * 1000:.0f} ms  ({len(latencies)} messages, "
          f"{invisible} not in the console within 30 s; goal p99 <= 1000 ms)")
    print(f"load average (1 min) at the end: {load:.1f} on {os.cpu_count()} cores (the machine is shared)")


if __name__ == "__main__":
    main()
