"""The SMTP listener's group commit: messages of concurrent sessions are spooled in one transaction, each
answered 250 only once it committed; one bad message fails only its own session; a failed commit acknowledges
nothing. What was spooled is then stored once by the worker."""

import smtplib
import threading

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import OperationalError

from tests.channels.email.conftest import ADDRESS, free_port
from tests.channels.email.mail import plain
from tests.factories import wait_for
from workspace.cli.smtp import start_listener
from workspace.extensions import db
from workspace.models import Message, SpooledEmail
from workspace.services.intake import spool
from workspace.services.intake.group_commit import _Waiting
from workspace.services.intake.spool import Received


@pytest.fixture
def controller(app, mailbox):
    """The SMTP listener on a free port; yields its controller (its handler holds the committer)."""
    controller = start_listener(app, "127.0.0.1", free_port())
    yield controller
    controller.stop()


def send_each(port: int, messages: list[bytes]) -> list[tuple[int, bytes]]:
    """Send each message from its own session at once; return each (code, text) the listener answered."""
    answers = [None] * len(messages)

    def send(index: int) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            client.ehlo()
            client.mail("ann@customer.example")
            client.rcpt(ADDRESS)
            answers[index] = client.data(messages[index])

    threads = [threading.Thread(target=send, args=(index,)) for index in range(len(messages))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return answers


def stored_ids(app, run_jobs) -> list[str]:
    """Let a worker read what was spooled; the Message-IDs stored, in order."""
    run_jobs()
    with app.app_context():
        found = db.session.scalars(sa.select(Message.external_id).order_by(Message.external_id)).all()
        db.session.remove()
        return found


def spooled_count(app) -> int:
    """How many messages wait in the spool."""
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(SpooledEmail))
        db.session.remove()
        return count


def message(number: int) -> bytes:
    """Plain mail number `number`: Message-ID <gN@customer.example>, subject "Order N"."""
    return plain(message_id=f"<g{number}@customer.example>", subject=f"Order {number}")


def test_messages_arriving_together_are_committed_in_one_group_each_answered_after_it(app, controller,
                                                                                        monkeypatch, run_jobs):
    """While one group commits, five sessions' messages wait; they are then spooled together, every session
    hears 250, and the worker stores each message."""
    committer = controller.handler.committer
    release, groups = threading.Event(), []
    real_stage_group, real_alone = committer.stage_group, committer.store_alone

    def held_alone(work):
        groups.append(1)
        release.wait(30)  # the first message's commit is slow: the others queue up meanwhile
        return real_alone(work)

    def stage_group(works):
        groups.append(len(works))
        return real_stage_group(works)

    monkeypatch.setattr(committer, "store_alone", held_alone)
    monkeypatch.setattr(committer, "stage_group", stage_group)
    first = threading.Thread(target=send_each, args=(controller.port, [message(0)]))
    first.start()
    assert wait_for(lambda: groups == [1], timeout=30)
    answers = []
    later = [message(n) for n in range(1, 6)]
    rest = threading.Thread(target=lambda: answers.extend(send_each(controller.port, later)))
    rest.start()
    assert wait_for(lambda: len(committer.pending) == 5, timeout=30)
    assert spooled_count(app) == 0  # nothing committed, nothing acknowledged yet
    release.set()
    first.join(30)
    rest.join(30)
    assert groups == [1, 5]
    assert [code for code, _ in answers] == [250] * 5
    assert spooled_count(app) == 6
    assert stored_ids(app, run_jobs) == [f"g{n}@customer.example" for n in range(6)]


def test_one_bad_message_in_a_group_fails_only_its_own_session(app, controller, monkeypatch, run_jobs):
    """A message whose spooling fails is answered 451 (the sender retries it); the others of its group are
    spooled and answered 250; its retry is then stored once."""
    committer = controller.handler.committer
    real_spool = spool.spool_received

    def spool_received(works):
        if any(b"<g2@customer.example>" in received.raw for work in works for received in work):
            raise RuntimeError("this message breaks the spool")
        return real_spool(works)

    monkeypatch.setattr(spool, "spool_received", spool_received)
    with app.app_context():
        works = [[Received(1, "ann@customer.example", [ADDRESS], message(n))] for n in range(5)]
    results = run_group(committer, works)
    assert [type(result).__name__ for result in results] == ["list", "list", "RuntimeError", "list", "list"]
    assert stored_ids(app, run_jobs) == [f"g{n}@customer.example" for n in (0, 1, 3, 4)]
    answers = send_each(controller.port, [message(2), message(3)])
    assert [code for code, _ in answers] == [451, 250]
    monkeypatch.setattr(spool, "spool_received", real_spool)
    assert [code for code, _ in send_each(controller.port, [message(2), message(3)])] == [250, 250]
    assert stored_ids(app, run_jobs) == [f"g{n}@customer.example" for n in range(5)]


def test_a_group_whose_commit_fails_acknowledges_none_of_its_messages(app, controller, monkeypatch, run_jobs):
    """The database fails at commit (a crash mid-group, as far as the senders can tell): every session of the
    group hears 451 and nothing is stored; sent again, each is stored once."""
    def broken_commit(self):
        raise OperationalError("COMMIT", {}, Exception("the database went away"))

    monkeypatch.setattr(so.Session, "commit", broken_commit)
    answers = send_each(controller.port, [message(n) for n in range(4)])
    assert [code for code, _ in answers] == [451] * 4
    monkeypatch.undo()
    assert spooled_count(app) == 0
    answers = send_each(controller.port, [message(n) for n in range(4)] + [message(0)])
    assert [code for code, _ in answers] == [250] * 5
    assert stored_ids(app, run_jobs) == [f"g{n}@customer.example" for n in range(4)]


def run_group(committer, works: list) -> list:
    """Stage and commit these works as one group directly (as the committer's thread does); each result or
    error."""
    waiting = [_Waiting(work) for work in works]
    with committer.app.app_context():
        committer._commit(waiting)
        db.session.remove()
    return [w.error if w.error is not None else w.result for w in waiting]


def test_listeners_share_one_port_and_each_takes_its_part_of_the_sessions(app, mailbox, run_jobs):
    """Two listeners on one port (as two `flask smtp` processes run, SO_REUSEPORT): the kernel spreads the
    sessions over both, every message is stored once, and when one stops the other takes everything."""
    port = free_port()
    app.config["SMTP_SHARED_PORT"] = True
    controllers = [start_listener(app, "127.0.0.1", port)]
    try:
        controllers.append(start_listener(app, "127.0.0.1", port))
    except BaseException:
        controllers[0].stop()
        raise
    taken = [0, 0]
    for number, listener in enumerate(controllers):
        spool = listener.handler._spool

        def counting(envelope, number=number, spool=spool):
            taken[number] += 1
            return spool(envelope)

        listener.handler._spool = counting
    try:
        # One sender, so under the flood limit (20): 16 sessions, then 3.
        answers = send_each(port, [message(n) for n in range(16)])
        assert [code for code, _ in answers] == [250] * 16
        assert sum(taken) == 16 and min(taken) > 0, f"one listener took every session: {taken}"
        controllers[0].stop()
        answers = send_each(port, [message(n) for n in range(16, 19)])
        assert [code for code, _ in answers] == [250] * 3
    finally:
        controllers[1].stop()
        if controllers[0]._thread is not None:
            controllers[0].stop()
    assert sorted(stored_ids(app, run_jobs)) == sorted(f"g{n}@customer.example" for n in range(19))
