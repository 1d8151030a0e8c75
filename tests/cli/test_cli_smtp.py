"""`flask smtp` as the Procfile runs it: a separate process that spools mail before answering 250 and hands it
to a worker's job."""

import smtplib

import pytest
import sqlalchemy as sa

from devstack.launcher import start_process, stop_process
from devstack.localredis import free_port
from tests.channels.email.mail import plain
from tests.factories import SECRET, process_env, wait_for
from workspace.extensions import db
from workspace.models import Channel, Message, SpooledEmail


def accepting(port: int) -> bool:
    """Whether an SMTP server answers on the port."""
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=2) as client:
            return client.noop()[0] == 250
    except OSError:
        return False


def test_the_smtp_process_spools_mail_and_stops_on_sigterm(app, redis_url, tmp_path, run_jobs):
    """The Procfile's smtp process takes mail for the email channel: what it answered 250 is in the spool, and
    the job it enqueued stores it."""
    with app.app_context():
        db.session.add(Channel(slug="mail", name="Mail", kind="email", secret=SECRET,
                               settings={"address": "support@example.test"}))
        db.session.commit()
    port = free_port()
    env = process_env(app, redis_url, tmp_path, SWITCHBOARD_SMTP_PORT=str(port))
    log = open(tmp_path / "smtp.log", "w")
    process = start_process("smtp", env, stdout=log, stderr=log)
    try:
        if not wait_for(lambda: accepting(port), timeout=60):
            pytest.fail((tmp_path / "smtp.log").read_text())
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            assert client.sendmail("ann@customer.example", ["support@example.test"], plain()) == {}
    finally:
        stop_process(process)
        log.close()
    assert process.returncode is not None
    with app.app_context():
        assert db.session.scalar(sa.select(SpooledEmail.raw)) == plain()
        db.session.remove()
    run_jobs()
    with app.app_context():
        assert db.session.scalar(sa.select(Message.external_id)) == "m1@customer.example"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SpooledEmail)) == 0
