"""IMAP polling against a real Dovecot started from a throwaway config: new mail stored once, nothing
deleted or marked read, one bad message never blocks the rest."""

import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.channels.email.conftest import free_port
from tests.channels.email.mail import plain, raw
from tests.factories import wait_for
from workspace.channels.email.mailbox import REFUSED, STORED
from workspace.extensions import db
from workspace.models import Channel, Message
from workspace.services.intake.imap import poll_mailbox

DOVECOT = "/usr/sbin/dovecot"
USER, PASSWORD = "support", "imap-secret"


def answering(port: int) -> bool:
    try:
        client = imaplib.IMAP4("127.0.0.1", port, timeout=2)
    except OSError:
        return False
    client.logout()
    return True


@pytest.fixture
def dovecot():
    """Dovecot on a free port: static passdb, a maildir in the temp folder; yields the port."""
    if not os.path.exists(DOVECOT):
        pytest.skip("dovecot-imapd is not installed (bin/imap-setup installs it where it can)")
    if os.geteuid() != 0:
        pytest.skip("the throwaway Dovecot runs its mail as the dovecot user, which needs root to start")
    owner = pwd.getpwnam("dovecot")
    # Not under pytest's temp folder: its parents are private to root, and the mail is the dovecot user's.
    root = Path(tempfile.mkdtemp(prefix="switchboard-dovecot-"))
    os.chmod(root, 0o711)
    for folder in ("run", "state", "mail"):
        (root / folder).mkdir()
    shutil.chown(root / "mail", owner.pw_uid, owner.pw_gid)
    port = free_port()
    (root / "dovecot.conf").write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = {owner.pw_uid}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={owner.pw_uid} gid={owner.pw_gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
""")
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        if not wait_for(lambda: answering(port), timeout=30):
            log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
            pytest.fail(f"dovecot did not start: {log}")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def append(port: int, message: bytes) -> None:
    """Put a message in the mailbox as a mail server would."""
    client = imaplib.IMAP4("127.0.0.1", port)
    client.login(USER, PASSWORD)
    assert client.append("INBOX", None, None, message)[0] == "OK"
    client.logout()


def flags(port: int) -> list[bytes]:
    """Each message's flags, in order."""
    client = imaplib.IMAP4("127.0.0.1", port)
    client.login(USER, PASSWORD)
    client.select("INBOX")
    _, data = client.fetch("1:*", "(FLAGS)")
    client.logout()
    return [line for line in data if line]


def test_new_mail_is_stored_once_marked_not_read_and_a_bad_message_does_not_block(app, dovecot):
    """Two good messages around a bad one: both stored, the bad one marked refused, nothing seen or deleted;
    polling again stores nothing more."""
    with app.app_context():
        db.session.add(Channel(slug="mail", name="Mail", kind="email", settings={
            "address": "support@example.test", "imap_host": "127.0.0.1", "imap_port": dovecot,
            "imap_username": USER, "imap_password": PASSWORD}))
        db.session.commit()
    append(dovecot, plain())
    append(dovecot, raw("Subject: no sender at all\nMessage-ID: <bad@x>", "who?"))
    append(dovecot, plain(message_id="<m2@customer.example>", subject="Second"))
    with app.app_context():
        channel = db.session.scalar(sa.select(Channel))
        first = poll_mailbox(channel)
        again = poll_mailbox(channel)
        stored = db.session.scalars(sa.select(Message.external_id).order_by(Message.id)).all()
    assert (len(first.stored), first.refused, first.error) == (2, 1, None)
    assert (again.stored, again.duplicates, again.refused) == ([], 0, 0)
    assert stored == ["m1@customer.example", "m2@customer.example"]
    marks = flags(dovecot)
    assert len(marks) == 3  # nothing deleted
    assert STORED.encode() in marks[0] and REFUSED.encode() in marks[1] and STORED.encode() in marks[2]
    assert not any(b"\\Seen" in mark for mark in marks)  # what people see in the mailbox is unchanged


def test_a_wrong_password_is_reported_not_raised(app, dovecot):
    """A mailbox that refuses the login is reported on the poll; nothing is stored."""
    with app.app_context():
        db.session.add(Channel(slug="mail", name="Mail", kind="email", settings={
            "address": "support@example.test", "imap_host": "127.0.0.1", "imap_port": dovecot,
            "imap_username": USER, "imap_password": "wrong-password"}))
        db.session.commit()
        report = poll_mailbox(db.session.scalar(sa.select(Channel)))
    assert report.error and report.stored == []
