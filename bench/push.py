"""Push latency: an urgent post's webhook accepted -> the push carrying it reaches the push service.

Starts Redis (unless REDIS_URL is set), a fresh SQLite database, the Procfile's web process and worker, and
the local RFC 8030 push service of the tests (it checks VAPID and decrypts every push). One agent works the
billing queue with one device; a rule makes every post urgent in billing. One urgent post warms the stack up
(its worker trains the suggestion ranker once, as a running deployment has), then two phases:

- baseline: the bench itself sends pushes (encrypt, VAPID, HTTP POST) to the same push service at the same
  rate: what a push alone costs on this machine now;
- webhooks: signed urgent posts at the rate. Pushes collapse (one waiting push job per agent, and a summary
  whose count is the agent's unread notifications), so post number k is carried by the first push whose
  count reaches k: its latency is that push's arrival minus the post's 202. The per-minute cap is lifted for
  the measurement (SWITCHBOARD_PUSH_PER_MINUTE), so what is timed is the path, not the cap; the push count
  under the default cap is printed alongside.

Usage: .venv/bin/python bench/push.py [--rate 200] [--seconds 20]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from pywebpush import WebPusher  # noqa: E402

from bench.live import paced, percentile  # noqa: E402
from bench.stack import bench_stack  # noqa: E402
from devstack.launcher import start_process, stop_all, wait_healthy  # noqa: E402
from tests.push_service import PushService  # noqa: E402
from workspace.channels.signature import sign  # noqa: E402

SECRET = "push-bench"
DRAIN_SECONDS = 20


def populate(url: str, redis_url: str, device, key_file: str) -> None:
    """The channel, the billing queue with its agent and device, and the rule that makes posts urgent."""
    from workspace import create_app
    from workspace.extensions import db
    from workspace.models import Agent, Channel, PushSubscription, Queue, Rule

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url, "DISPATCHER_ENABLED": False,
                      "VAPID_KEY_FILE": key_file})
    with app.app_context():
        db.create_all()
        billing = Queue(slug="billing", name="Billing")
        agent = Agent(email="oncall@example.com", name="On Call", role="agent", queues=[billing])
        subscription = device.subscription()
        db.session.add_all([
            Channel(slug="forum", name="Forum", kind="native", secret=SECRET, settings={"rate_limit": 100_000}),
            billing, Queue(slug="triage", name="Triage"), agent,
            Rule(position=1, name="urgent", conditions={"phrase": "outage"},
                 actions={"queue": "billing", "priority": "urgent"})])
        db.session.flush()
        db.session.add(PushSubscription(agent_id=agent.id, endpoint=subscription["endpoint"],
                                        p256dh=subscription["keys"]["p256dh"], auth=subscription["keys"]["auth"],
                                        label="bench"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def baseline(service: PushService, rate: float, seconds: float, key_file: str) -> list[float]:
    """Send pushes from here at the rate; return each one's latency (send -> received)."""
    from py_vapid import Vapid02

    device = service.device("baseline")
    vapid = Vapid02.from_file(key_file)
    info = device.subscription()
    sent: dict[int, float] = {}
    lock = threading.Lock()

    def send(number: int) -> None:
        headers = vapid.sign({"aud": service.url, "exp": int(time.time()) + 3600, "sub": "mailto:bench@example.com"})
        with lock:
            sent[number] = time.time()
        WebPusher(info).send(data=json.dumps({"title": "baseline", "tag": str(number), "count": number}),
                             headers={**headers, "Urgency": "high"}, ttl=60, timeout=10)

    paced(rate, seconds, send)
    return [push["at"] - sent[push["count"]] for push in device.received]


def post(session: requests.Session, base: str, number: int | str) -> requests.Response:
    """One signed urgent post to the forum's webhook."""
    body = json.dumps({"id": f"p{number}", "author": {"id": f"u{number}", "handle": f"u{number}"},
                       "text": f"outage: cannot pay, order {number}"}).encode()
    return session.post(f"{base}/webhooks/forum", data=body, timeout=10, headers={
        "Content-Type": "application/json", "X-Switchboard-Signature": sign(SECRET, body)})


def warm_up(base: str, redis_url: str, queue_name: str, phone) -> None:
    """One urgent post carried to the phone, then a worker with nothing left to do: what a running deployment
    has done once already (the first routed post trains the suggestion ranker, seconds that would otherwise
    stall the measured phase's first pushes)."""
    from redis import Redis
    from rq import Queue
    from rq.registry import StartedJobRegistry

    session = requests.Session()
    session.trust_env = False
    assert post(session, base, "warm-up").status_code == 202
    queue = Queue(queue_name, connection=Redis.from_url(redis_url))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (phone.received and queue.count == 0
                                               and StartedJobRegistry(queue=queue).count == 0):
        time.sleep(0.2)
    phone.received.clear()


def webhooks(base: str, rate: float, seconds: float) -> tuple[list[float], float]:
    """Post urgent webhooks at the rate; return the 202 times in order and the rate achieved."""
    accepted: list[float] = []
    lock = threading.Lock()
    local = threading.local()

    def send(number: int) -> None:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.trust_env = False
        response = post(local.session, base, number)
        if response.status_code == 202:
            with lock:
                accepted.append(time.time())

    achieved = paced(rate, seconds, send)
    return sorted(accepted), achieved


def carried(accepted: list[float], pushes: list[dict], before: int = 0) -> list[float]:
    """Post k's latency: the arrival of the first push whose count reaches k (plus the `before` notifications
    unread before the phase), minus its 202."""
    latencies, ordered = [], sorted(pushes, key=lambda push: push["at"])
    for index, at in enumerate(accepted, start=1 + before):
        push = next((p for p in ordered if p.get("count", 0) >= index), None)
        if push is not None:
            latencies.append(push["at"] - at)
    return latencies


def show(label: str, latencies: list[float], total: int, extra: str = "") -> None:
    if not latencies:
        print(f"  {label:9} nothing arrived of {total}")
        return
    print(f"  {label:9} {len(latencies):6}/{total} p50 {statistics.median(latencies) * 1000:6.0f} ms  "
          f"p99 {percentile(latencies, 0.99) * 1000:6.0f} ms  max {max(latencies) * 1000:6.0f} ms  {extra}"
          f"(load {os.getloadavg()[0]:.1f})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        key_file = f"{workdir}/vapid.pem"
        redis_process, env = bench_stack(workdir, SWITCHBOARD_PUSH_ALLOW_LOCAL_ENDPOINTS="1",
                                         SWITCHBOARD_PUSH_PER_MINUTE="1000000", SWITCHBOARD_VAPID_KEY_FILE=key_file)
        redis_url, port = env["REDIS_URL"], env["PORT"]
        service = PushService()
        phone = service.device("phone")
        populate(env["DATABASE_URL"], redis_url, phone, key_file)
        log = open(f"{workdir}/stack.log", "w")
        children = [start_process("web", env, stdout=log, stderr=log),
                    start_process("worker", env, stdout=log, stderr=log)]
        try:
            base = f"http://127.0.0.1:{port}"
            if not wait_healthy(base):
                sys.exit(f"the web process did not start; see {workdir}/stack.log")
            warm_up(base, redis_url, env["SWITCHBOARD_RQ_QUEUE"], phone)
            print(f"push latency at {options.rate:.0f} posts/s for {options.seconds:.0f} s, one agent, one device")
            direct = baseline(service, options.rate, options.seconds, key_file)
            show("baseline", direct, int(options.rate * options.seconds))
            accepted, achieved = webhooks(base, options.rate, options.seconds)
            deadline = time.monotonic() + DRAIN_SECONDS
            while time.monotonic() < deadline and not any(p.get("count", 0) > len(accepted) for p in phone.received):
                time.sleep(0.2)
            show("webhooks", carried(accepted, phone.received, before=1), len(accepted),
                 f"{len(phone.received)} pushes for {len(accepted)} posts at {achieved:.0f}/s  ")
        finally:
            stop_all(children)
            service.close()
            log.close()
            if redis_process is not None:
                redis_process.terminate()


if __name__ == "__main__":
    main()
