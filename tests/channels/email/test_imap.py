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
from workspace.channels.email.mailbox import REFUSED, STORED, Mailbox
from workspace.extensions import db
from workspace.models import Channel, Message
from workspace.services.intake import imap as imap_intake
from workspace.services.intake.imap import MailboxWatcher, poll_mailbox

DOVECOT = "/usr/sbin/dovecot"
USER, PASSWORD = "support", "imap-secret"


def answering(port: int) -> bool:
    try:
        client = imaplib.IMAP4("127.0.0.1", port, timeout=2)
    except OSError:
        return False
    client.logout()
    return True


class Dovecot:
    """A throwaway Dovecot: static passdb, a maildir in a temp folder, on a free port; restartable (its
    connections drop, its mail stays)."""

    def __init__(self, root: Path, port: int):
        self.root, self.port, self.process = root, port, None

    def start(self) -> None:
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_for(lambda: answering(self.port), timeout=30):
            log = (self.root / "dovecot.log").read_text() if (self.root / "dovecot.log").exists() else ""
            pytest.fail(f"dovecot did not start: {log}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def kick(self, user: str) -> None:
        """Drop every connection of a user, as a server restart or a network failure would."""
        subprocess.run(["doveadm", "-c", str(self.root / "dovecot.conf"), "kick", user], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)


@pytest.fixture
def dovecot():
    """Dovecot on a free port (see Dovecot)."""
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
# IDLE learns of new mail through inotify, and looks anyway this often (30 s by default) should inotify be
# out of watches on a busy machine.
mailbox_idle_check_interval = 1 secs
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
    server = Dovecot(root, port)
    server.start()
    try:
        yield server
    finally:
        server.stop()
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
            "address": "support@example.test", "imap_host": "127.0.0.1", "imap_port": dovecot.port,
            "imap_username": USER, "imap_password": PASSWORD}))
        db.session.commit()
    append(dovecot.port, plain())
    append(dovecot.port, raw("Subject: no sender at all\nMessage-ID: <bad@x>", "who?"))
    append(dovecot.port, plain(message_id="<m2@customer.example>", subject="Second"))
    with app.app_context():
        channel = db.session.scalar(sa.select(Channel))
        first = poll_mailbox(channel)
        again = poll_mailbox(channel)
        stored = db.session.scalars(sa.select(Message.external_id).order_by(Message.id)).all()
    assert (len(first.stored), first.refused, first.error) == (2, 1, None)
    assert (again.stored, again.duplicates, again.refused) == ([], 0, 0)
    assert stored == ["m1@customer.example", "m2@customer.example"]
    marks = flags(dovecot.port)
    assert len(marks) == 3  # nothing deleted
    assert STORED.encode() in marks[0] and REFUSED.encode() in marks[1] and STORED.encode() in marks[2]
    assert not any(b"\\Seen" in mark for mark in marks)  # what people see in the mailbox is unchanged


def test_a_wrong_password_is_reported_not_raised(app, dovecot):
    """A mailbox that refuses the login is reported on the poll; nothing is stored."""
    with app.app_context():
        db.session.add(Channel(slug="mail", name="Mail", kind="email", settings={
            "address": "support@example.test", "imap_host": "127.0.0.1", "imap_port": dovecot.port,
            "imap_username": USER, "imap_password": "wrong-password"}))
        db.session.commit()
        report = poll_mailbox(db.session.scalar(sa.select(Channel)))
    assert report.error and report.stored == []


def add_mailbox_channel(app, port: int) -> int:
    with app.app_context():
        channel = Channel(slug="mail", name="Mail", kind="email", settings={
            "address": "support@example.test", "imap_host": "127.0.0.1", "imap_port": port,
            "imap_username": USER, "imap_password": PASSWORD})
        db.session.add(channel)
        db.session.commit()
        return channel.id


def stored(app) -> list[str]:
    with app.app_context():
        found = db.session.scalars(sa.select(Message.external_id).order_by(Message.id)).all()
        db.session.remove()
        return found


def test_idle_stores_a_new_message_as_it_arrives_without_waiting_for_a_poll(app, dovecot):
    """The watcher waits in IDLE (Dovecot offers it): mail appended while it waits is stored at once, though
    the poll interval is an hour; routing is told of it."""
    channel_id = add_mailbox_channel(app, dovecot.port)
    reports = []
    watcher = MailboxWatcher(app, channel_id, poll_seconds=3600, on_report=lambda c, r: reports.append(r)).start()
    try:
        assert wait_for(lambda: len(reports) == 1, timeout=30)  # the first read: nothing waiting yet
        assert watcher.idling
        append(dovecot.port, plain())
        assert wait_for(lambda: stored(app) == ["m1@customer.example"], timeout=30)
        append(dovecot.port, plain(message_id="<m2@customer.example>", subject="Second"))
        assert wait_for(lambda: stored(app) == ["m1@customer.example", "m2@customer.example"], timeout=30)
        # The watcher reports a round after its commit: the second report may follow the stored rows by a moment.
        assert wait_for(lambda: [len(r.stored) for r in reports if r.stored] == [1, 1], timeout=10)
        assert watcher.connections == 1
    finally:
        watcher.stop()
    assert not watcher.alive()
    assert STORED.encode() in flags(dovecot.port)[1]


def test_a_dropped_connection_is_reconnected_and_mail_sent_meanwhile_is_stored(app, dovecot, monkeypatch):
    """The IMAP server drops the watcher's connection: the watcher logs in again after a backoff and stores
    the mail that arrived while it was away, then what arrives later."""
    monkeypatch.setattr(imap_intake, "FIRST_BACKOFF_SECONDS", 0.2)
    channel_id = add_mailbox_channel(app, dovecot.port)
    watcher = MailboxWatcher(app, channel_id, poll_seconds=3600).start()
    try:
        assert wait_for(lambda: watcher.connections == 1 and watcher.mailbox is not None, timeout=30)
        dovecot.kick(USER)
        append(dovecot.port, plain(message_id="<while-away@customer.example>"))
        assert wait_for(lambda: stored(app) == ["while-away@customer.example"], timeout=60)
        assert watcher.connections >= 2
        append(dovecot.port, plain(message_id="<after@customer.example>"))
        assert wait_for(lambda: stored(app) == ["while-away@customer.example", "after@customer.example"],
                        timeout=30)
    finally:
        watcher.stop()


def test_without_idle_the_watcher_polls(app, dovecot, monkeypatch):
    """A server that offers no IDLE is asked every poll interval."""
    monkeypatch.setattr(Mailbox, "can_idle", lambda self: False)
    channel_id = add_mailbox_channel(app, dovecot.port)
    watcher = MailboxWatcher(app, channel_id, poll_seconds=0.2).start()
    try:
        append(dovecot.port, plain())
        assert wait_for(lambda: stored(app) == ["m1@customer.example"], timeout=30)
        assert not watcher.idling
    finally:
        watcher.stop()


def test_a_channel_that_loses_its_mailbox_ends_its_watcher(app, dovecot):
    """Disabling the channel ends its watcher at its next wake-up."""
    channel_id = add_mailbox_channel(app, dovecot.port)
    watcher = MailboxWatcher(app, channel_id, poll_seconds=3600).start()
    try:
        assert wait_for(lambda: watcher.idling and watcher.mailbox is not None, timeout=30)
        with app.app_context():
            db.session.get(Channel, channel_id).enabled = False
            db.session.commit()
        append(dovecot.port, plain())  # wakes it from IDLE; it stores that message, then sees the change
        assert wait_for(lambda: not watcher.alive(), timeout=30)
    finally:
        watcher.stop()
