"""The production topology as `./bin/run --scale web=2,worker=2,smtp=2 --database ...` starts it: nginx in
front of two web processes, two workers, two SMTP listeners on one port and one scheduler. Driven end to end
through nginx: signed webhooks reach both web processes, mail over SMTP is stored, a console on Socket.IO's
polling transport (which works across processes only thanks to nginx's sticky sessions) gets every
conversation.created once, counts equal messages, and a SIGTERM stops every process without losing an
acknowledged post. Runs on PostgreSQL when TEST_DATABASE_URL is set."""

import json
import signal
import smtplib
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import socketio
import sqlalchemy as sa

from devstack import nginx
from devstack.launcher import wait_healthy
from devstack.localredis import free_port, free_port_run
from devstack.processes import alive, descendants
from tests.channels.email.mail import plain
from tests.conftest import POSTGRES_URL
from tests.factories import ROOT, SECRET, drained, make_post, process_env, wait_for
from workspace.channels.signature import sign
from workspace.extensions import db
from workspace.models import Agent, ApiToken, Channel, Message, Queue, VolumeCount

POSTS = 120
MAILBOX = "support@example.test"
SENDERS = 4
# Generous: start-up on a busy shared machine takes a minute; the stop itself is measured by bench/scale.py.
START_SECONDS = 240
STOP_SECONDS = 60

pytestmark = [pytest.mark.slow, pytest.mark.skipif(bool(nginx.missing()), reason=str(nginx.missing()))]


def prepare(app) -> str:
    """After the launcher's migrations: the channel, the queues, and a supervisor's API token."""
    with app.app_context():
        db.session.add(Channel(slug="forum", name="Forum", kind="native", secret=SECRET))
        db.session.add(Channel(slug="mail", name="Mail", kind="email", secret=SECRET,
                               settings={"address": MAILBOX}))
        db.session.add_all([Queue(slug=slug, name=slug.title()) for slug in ("triage", "billing", "tech")])
        agent = Agent(email="sup@example.com", name="Sup", role="supervisor")
        row, token = ApiToken.issue(agent, "topology")
        db.session.add_all([agent, row])
        db.session.commit()
        db.session.remove()
    return token


def signed(post: dict) -> tuple[bytes, dict]:
    """A webhook body and its headers."""
    body = json.dumps(post).encode()
    return body, {"Content-Type": "application/json", "X-Switchboard-Signature": sign(SECRET, body)}


@pytest.mark.parametrize("database_url", ["postgresql" if POSTGRES_URL else "sqlite"], indirect=True)
def stored_mail(app) -> list[str]:
    """The Message-IDs of the topology's mail that a worker has read out of the spool and stored."""
    with app.app_context():
        found = db.session.scalars(sa.select(Message.external_id).where(
            Message.external_id.like("topology%@customer.example"))).all()
        db.session.remove()
        return list(found)


def test_the_scaled_topology_through_nginx(app, redis_url, tmp_path):
    """Webhooks through nginx reach both web processes; a polling console behind nginx gets each
    conversation.created exactly once; counts equal messages; SIGTERM stops every process, and every post
    acknowledged before or during the stop is stored."""
    with app.app_context():  # the launcher migrates a database of its own
        db.drop_all()
        db.session.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        db.session.remove()
    port, smtp_port = free_port_run(4), free_port()
    env = process_env(app, redis_url, tmp_path, PORT=str(port), SWITCHBOARD_SMTP_PORT=str(smtp_port),
                      PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
                      SWITCHBOARD_TICKETING_URL="http://127.0.0.1:9",  # a real one configured: no stub here
                      SWITCHBOARD_LOG_FORMAT="json")  # a line per request, prefixed by the launcher with its process
    log = open(tmp_path / "launcher.log", "w")
    launcher = subprocess.Popen([sys.executable, "-m", "devstack.launcher", "--scale", "web=2,worker=2,smtp=2",
                                 "--no-demo", "--database", app.config["SQLALCHEMY_DATABASE_URI"]],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    console = socketio.Client(reconnection=False)
    announced: list[int] = []
    console.on("conversation.created", lambda data: announced.extend(c["id"] for c in data["conversations"]))
    try:
        started = wait_healthy(base, START_SECONDS)
        assert started, "the topology did not start:\n" + (tmp_path / "launcher.log").read_text()
        family = descendants(launcher.pid)
        token = prepare(app)
        console.connect(base, auth={"token": token}, transports=["polling"], wait_timeout=30)

        posts = [make_post(author={"id": f"customer{n}", "handle": f"c{n}"}, text="@billing charged twice")
                 for n in range(POSTS)]
        with ThreadPoolExecutor(SENDERS) as pool:
            answers = list(pool.map(lambda post: requests.post(f"{base}/webhooks/forum", timeout=30,
                                                               data=signed(post)[0], headers=signed(post)[1]), posts))
        assert [answer.status_code for answer in answers] == [202] * POSTS
        sent = [answer.json()["conversation_id"] for answer in answers]
        assert wait_for(lambda: drained(app) and len(announced) >= POSTS, timeout=120), "not all routed and announced"
        time.sleep(1)  # a doubled event would come right after the first
        served = Counter(line.split("|")[0].strip() for line in (tmp_path / "launcher.log").read_text().splitlines()
                         if '"path": "/webhooks/forum"' in line)
        assert served["web1"] > 0 and served["web2"] > 0, f"nginx sent webhooks to one process only: {served}"
        assert sorted(announced) == sorted(sent), "a conversation.created was missed or doubled"
        assert console.connected  # still the same polling session: every poll reached its own process
        mails = [plain(message_id=f"<topology{n}@customer.example>", sender=f"c{n}@customer.example", to=MAILBOX)
                 for n in range(4)]
        for mail in mails:  # each its own session: the kernel may give each to either listener
            with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as client:
                assert client.sendmail(f"c{mails.index(mail)}@customer.example", [MAILBOX], mail) == {}
        assert wait_for(lambda: len(stored_mail(app)) == len(mails), timeout=60), "spooled mail was not read"

        # Stop with the console connected and posts still arriving: everything goes, nothing acknowledged is lost.
        acknowledged: list[str] = []
        stopping = threading.Event()

        def keep_sending() -> None:
            while not stopping.is_set():
                post = make_post(author={"id": "late", "handle": "late"})
                try:
                    if requests.post(f"{base}/webhooks/forum", data=signed(post)[0], headers=signed(post)[1],
                                     timeout=10).status_code == 202:
                        acknowledged.append(post["id"])
                except requests.RequestException:
                    pass

        sender = threading.Thread(target=keep_sending)
        sender.start()
        time.sleep(1)
        started = time.monotonic()
        launcher.send_signal(signal.SIGTERM)
        launcher.wait(timeout=STOP_SECONDS)
        left = wait_for(lambda: not any(alive(pid) for pid in family), timeout=STOP_SECONDS)
        print(f"every process gone {time.monotonic() - started:.1f} s after SIGTERM")
        stopping.set()
        sender.join()
        assert left, f"processes left after the stop: {[pid for pid in family if alive(pid)]}"
    finally:
        if console.connected:
            console.disconnect()
        if launcher.poll() is None:
            launcher.send_signal(signal.SIGTERM)
            launcher.wait(timeout=STOP_SECONDS)
        log.close()
    with app.app_context():
        stored = set(db.session.scalars(sa.select(Message.external_id).where(Message.direction == "inbound")))
        assert set(acknowledged) <= stored, "a post acknowledged during the stop was lost"
        assert {f"topology{n}@customer.example" for n in range(4)} <= stored, "mail answered 250 was not stored"
        inbound = len(stored)
        counted = db.session.scalar(sa.select(sa.func.sum(VolumeCount.posts)).where(VolumeCount.kind == "queue"))
        assert counted <= inbound and counted >= POSTS  # late posts may still wait for a worker, never double
        db.session.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))  # the fixture drops the rest
        db.session.commit()
        db.session.remove()
