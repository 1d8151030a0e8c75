"""Receive now, read later: 250 means the raw message is committed to the spool; a worker's job turns it into
the conversation, exactly once; what Redis or a worker lost is found again by the sweeper; a message that
cannot be read ends suspended for an admin, never lost and never blocking the others."""

import hashlib
import smtplib
import threading

import pytest
import sqlalchemy as sa

from tests.channels.email.conftest import ADDRESS, SmtpListener, free_port
from tests.channels.email.mail import plain, raw
from tests.jobs.test_outages import PrivateRedis
from workspace.cli.smtp import start_listener
from workspace.extensions import db
from workspace.infra.broker import job_queue
from workspace.jobs.enqueue import enqueue
from workspace.jobs.tasks import mail, periodic
from workspace.live import signals
from workspace.models import Message, OutboxEntry, SpooledEmail, SuspendedEmail
from workspace.services.intake import spool


def spool_only(listener: SmtpListener, message: bytes, sender="ann@customer.example") -> list[int]:
    """Send one message over SMTP without letting any worker read it; the spool ids its 250 names."""
    with smtplib.SMTP("127.0.0.1", listener.port, timeout=30) as client:
        client.ehlo()
        client.mail(sender)
        client.rcpt(ADDRESS)
        code, answer = client.data(message)
    assert code == 250, answer
    text = answer.decode()
    assert text.startswith("2.0.0 OK: queued as ")
    return [int(spool_id) for spool_id in text.removeprefix("2.0.0 OK: queued as ").split()]


def spooled(app) -> dict[int, bytes]:
    """The spool: raw message by id."""
    with app.app_context():
        rows = db.session.execute(sa.select(SpooledEmail.id, SpooledEmail.raw)).all()
        db.session.remove()
        return dict(rows)


def stored(app) -> list[str]:
    """The Message-IDs of the stored inbound messages, in order."""
    with app.app_context():
        found = db.session.scalars(sa.select(Message.external_id).order_by(Message.id)).all()
        db.session.remove()
        return list(found)


def message(number: int) -> bytes:
    """Plain mail number `number`: Message-ID <sN@customer.example>, subject "Order N"."""
    return plain(message_id=f"<s{number}@customer.example>", subject=f"Order {number}")


def test_250_means_the_raw_message_is_committed_and_the_job_turns_it_into_the_conversation(app, listener):
    """Before any worker runs, the spool holds exactly the bytes sent and nothing is parsed; the job the
    listener enqueued stores the conversation, waiting for routing, and empties the spool."""
    body = message(1)
    (spool_id,) = spool_only(listener, body)
    assert spooled(app) == {spool_id: body}
    assert stored(app) == []
    with app.app_context():
        assert job_queue().count == 1
        row = db.session.get(SpooledEmail, spool_id)
        assert (row.channel_id, row.sender, row.recipients, row.attempts) == (1, "ann@customer.example",
                                                                              [ADDRESS], 0)
        db.session.remove()
    listener.read()
    assert stored(app) == ["s1@customer.example"]
    assert spooled(app) == {}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEntry)) == 1


def test_a_message_read_twice_is_stored_once(app, listener):
    """The same spooled ids in a retried job, a second job and a sweep: each message is stored once, and the
    later reads find nothing left to read."""
    ids = spool_only(listener, message(1)) + spool_only(listener, message(2))
    with app.app_context():
        enqueue(mail.read_spooled_mail, ids)  # a retry of the whole group, as RQ would run it
        periodic.sweep()  # the grace period is 0 in tests: the sweeper hands the same rows on too
    listener.read()
    assert stored(app) == ["s1@customer.example", "s2@customer.example"]
    with app.app_context():
        assert mail.read_spooled_mail(ids) == {"stored": 0, "duplicates": 0, "suspended": 0, "unreadable": 0,
                                               "failed": []}
    assert stored(app) == ["s1@customer.example", "s2@customer.example"]


def test_the_same_message_spooled_twice_is_stored_once(app, listener):
    """A sender that did not hear the 250 sends again: two spool rows, one stored message (by Message-ID)."""
    spool_only(listener, message(1))
    spool_only(listener, message(1))
    listener.read()
    assert stored(app) == ["s1@customer.example"]
    assert spooled(app) == {}


def test_an_unreadable_message_ends_suspended_and_the_others_of_its_group_are_stored(app, client, token,
                                                                                       listener):
    """A message with no sender, read in one job with two good ones: it is kept whole as suspended mail with
    the reason (an admin sees it), the two others are stored."""
    bad = raw("Subject: nobody sent this\nMessage-ID: <anon@x>", "who?\n")
    ids = [spool_only(listener, body, sender="robot@vendor.example")[0] for body in (message(1), bad, message(2))]
    with app.app_context():
        job_queue().empty()  # read the three together, as one group
        assert mail.read_spooled_mail(ids) == {"stored": 2, "duplicates": 0, "suspended": 0, "unreadable": 1,
                                               "failed": []}
    assert stored(app) == ["s1@customer.example", "s2@customer.example"]
    assert spooled(app) == {}
    with app.app_context():
        (held,) = db.session.scalars(sa.select(SuspendedEmail)).all()
        assert (held.raw, held.sender, held.message_key) == (bad, "robot@vendor.example",
                                                                 "spooled-" + hashlib.sha256(bad).hexdigest())
        assert held.reason.startswith("could not be read:") and "From" in held.reason
    listed = client.get("/api/v1/suspended-mail", headers={"Authorization": f"Bearer {token}"}).get_json()["data"]
    assert [entry["sender"] for entry in listed] == ["robot@vendor.example"]


def test_a_message_that_fails_to_store_is_retried_then_suspended_and_never_blocks_the_others(app, listener,
                                                                                               monkeypatch):
    """Storing one message of a group breaks: the group is read one by one, the others are stored, the bad one
    stays spooled with its failure counted (the job fails, so RQ retries it); after SPOOL_ATTEMPTS it is
    suspended with the error."""
    real_stage = spool.stage_mail

    def stage(messages, flood_check):
        if any(read.post.external_id == "s2@customer.example" for read in messages):
            raise RuntimeError("this message breaks the store")
        return real_stage(messages, flood_check)

    monkeypatch.setattr(spool, "stage_mail", stage)
    ids = [spool_only(listener, message(n))[0] for n in (1, 2, 3)]
    with app.app_context():
        job_queue().empty()
        with pytest.raises(spool.SpoolReadFailed):
            mail.read_spooled_mail(ids)
        assert stored(app) == ["s1@customer.example", "s3@customer.example"]
        row = db.session.get(SpooledEmail, ids[1])
        assert (row.attempts, row.last_error) == (1, "RuntimeError: this message breaks the store")
        db.session.remove()
        for _ in range(spool.SPOOL_ATTEMPTS - 1):
            report = spool.read_spooled([ids[1]])
        assert (report.failed, report.unreadable) == ([], 1)
        (held,) = db.session.scalars(sa.select(SuspendedEmail)).all()
        assert held.reason == (f"could not be stored after {spool.SPOOL_ATTEMPTS} attempts: "
                               "RuntimeError: this message breaks the store")
        assert held.raw == message(2)
    assert spooled(app) == {}


class TestRecovery:
    """The spool is swept like the outbox: mail whose job never ran is read once the sweeper finds it."""

    @pytest.fixture
    def private_redis(self, tmp_path):
        """A Redis only this test uses, since it is going to stop it."""
        server = PrivateRedis(tmp_path / "redis")
        yield server
        server.stop()

    @pytest.fixture
    def redis_url(self, private_redis):
        """The app talks to the private Redis."""
        return private_redis.url

    def test_mail_spooled_while_redis_is_down_is_read_once_the_sweeper_runs(self, app, mailbox, run_jobs,
                                                                              private_redis):
        """With Redis down the listener still answers 250 (the spool needs only the database); no job could be
        enqueued, so nothing is read until the sweeper hands the rows on."""
        controller = start_listener(app, "127.0.0.1", free_port())
        listener = SmtpListener(controller.port, run_jobs, controller.handler)
        try:
            with private_redis.down():
                ids = spool_only(listener, message(1)) + spool_only(listener, message(2))
        finally:
            controller.stop()
        run_jobs()
        assert sorted(spooled(app)) == ids and stored(app) == []
        with app.app_context():
            assert periodic.resend_spooled_mail(0) == 2
        run_jobs()
        assert stored(app) == ["s1@customer.example", "s2@customer.example"]
        assert spooled(app) == {}

    def test_a_job_lost_after_the_spool_commit_is_recovered_by_the_sweeper(self, app, listener):
        """Redis loses the job (or the worker dies before committing): the rows are still there, the sweeper
        enqueues them again, each is stored once."""
        ids = spool_only(listener, message(1))
        with app.app_context():
            job_queue().empty()
        listener.read()
        assert sorted(spooled(app)) == ids
        with app.app_context():
            periodic.sweep()
        listener.read()
        assert stored(app) == ["s1@customer.example"]
        assert spooled(app) == {}


def test_two_workers_reading_the_same_mail_at_once_store_it_once(app, listener):
    """Two jobs on the same spooled ids at the same moment (two workers): the delete that claims a row lets
    one of them store it (SKIP LOCKED on PostgreSQL, the write lock on SQLite); the other finds it gone."""
    ids = [spool_only(listener, message(n))[0] for n in range(1, 6)]
    with app.app_context():
        job_queue().empty()
    start, reports = threading.Barrier(2), []

    def read() -> None:
        with app.app_context():
            start.wait(10)
            reports.append(spool.read_spooled(ids))
            db.session.remove()

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(report.stored for report in reports) in ([0, 5], [1, 4], [2, 3])
    assert [report.failed for report in reports] == [[], []]
    assert stored(app) == [f"s{n}@customer.example" for n in range(1, 6)]
    assert spooled(app) == {}


def test_reading_spooled_mail_announces_the_conversations_it_stored(app, listener):
    """The read job sends `posts_stored` with the new conversations, which wakes a worker's outbox
    dispatcher (outside a request, nobody else would)."""
    announced = []

    def receive(sender, ids):
        announced.extend(ids)

    ids = spool_only(listener, message(1)) + spool_only(listener, message(2))
    with app.app_context():
        job_queue().empty()
        with signals.posts_stored.connected_to(receive):
            spool.read_spooled(ids)
        conversations = sorted(db.session.scalars(sa.select(Message.conversation_id)).all())
    assert sorted(announced) == conversations and len(conversations) == 2


def test_an_outage_while_reading_fails_the_job_without_counting_against_the_message(app, listener, monkeypatch):
    """The database not answering says nothing about the message: the job fails (RQ retries it), the mail
    stays spooled with no attempt counted, so an outage never ends in good mail suspended."""
    def stage(messages, flood_check):
        raise sa.exc.OperationalError("INSERT", {}, Exception("the database is not answering"))

    monkeypatch.setattr(spool, "stage_mail", stage)
    ids = [spool_only(listener, message(n))[0] for n in (1, 2)]
    with app.app_context():
        job_queue().empty()
        for _ in range(spool.SPOOL_ATTEMPTS + 1):
            with pytest.raises(sa.exc.OperationalError):
                mail.read_spooled_mail(ids)
            db.session.remove()
        assert [row.attempts for row in db.session.scalars(sa.select(SpooledEmail))] == [0, 0]
        assert db.session.scalars(sa.select(SuspendedEmail)).all() == []
    monkeypatch.undo()
    with app.app_context():
        spool.read_spooled(ids)
    assert stored(app) == ["s1@customer.example", "s2@customer.example"]


def test_a_spool_id_names_one_message_for_good(app, listener):
    """Read rows are deleted; a message spooled after the spool emptied never gets an id used before (SQLite
    would reuse them without AUTOINCREMENT), so its job and its suspended copy are its own."""
    (first,) = spool_only(listener, message(1))
    listener.read()
    assert spooled(app) == {}
    (second,) = spool_only(listener, message(2))
    assert second > first


def test_a_database_failure_during_a_session_is_a_451_the_sender_retries(app, listener, monkeypatch):
    """Looking up a recipient's channel fails (the database is down): the sender hears 451 (try again), never
    a 5xx that would bounce the mail; the listener keeps serving."""
    def down(address):
        raise sa.exc.OperationalError("SELECT", {}, Exception("the database is not answering"))

    monkeypatch.setattr(listener.handler, "_channel", down)
    with smtplib.SMTP("127.0.0.1", listener.port, timeout=30) as client:
        client.ehlo()
        client.mail("ann@customer.example")
        code, answer = client.rcpt(ADDRESS)
        assert (code, answer.decode()) == (451, "4.3.0 The message could not be stored; try again later")
    monkeypatch.undo()
    assert spool_only(listener, message(1))


def test_a_read_holds_a_bounded_run_of_raw_mail_at_a_time(app, listener, monkeypatch):
    """A job's messages are read in runs of at most READ_BYTES of raw mail (one bigger message alone), and
    every message is stored all the same."""
    ids = [spool_only(listener, message(n))[0] for n in (1, 2, 3)]
    monkeypatch.setattr(spool, "READ_BYTES", len(message(1)) * 2)
    with app.app_context():
        job_queue().empty()
        assert spool._chunks(ids) == [ids[:2], ids[2:]]
        monkeypatch.setattr(spool, "READ_BYTES", 1)
        assert spool._chunks(ids) == [[spool_id] for spool_id in ids]
        assert spool.read_spooled(ids).stored == 3
    assert stored(app) == [f"s{n}@customer.example" for n in (1, 2, 3)]
