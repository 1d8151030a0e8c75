"""An IMAP mailbox the brand already has: new messages read without touching what people see.

Messages are read with BODY.PEEK (so \\Seen stays as it was) and, once
stored, marked with the keyword `$SwitchboardStored`; the next poll asks only
for messages without it, so nothing is imported twice and nothing is moved or
deleted. A message that cannot be read as mail is marked `$SwitchboardRefused`
and never blocks the rest.

Where the server offers IDLE (RFC 2177), the reader waits in it for the
server to announce new mail instead of asking again and again; the RFC lets a
server drop a client idle for 30 minutes, so IDLE is ended and re-issued well
before. Python's imaplib has no IDLE before 3.14, so the exchange is done here
over imaplib's own connection (send, readline), which then goes on as before.
"""

import imaplib
import itertools
import re
import select
import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager

STORED = "$SwitchboardStored"
REFUSED = "$SwitchboardRefused"
# Messages read per poll: the rest wait for the next one.
BATCH = 200
TIMEOUT_SECONDS = 30
_UID = re.compile(rb"UID (\d+)")
# RFC 2177: re-issue IDLE at least every 29 minutes; a minute early, for clocks and slow networks.
IDLE_SECONDS = 28 * 60
# What a server says in IDLE when a message arrives (RFC 3501: EXISTS with the new count).
_NEWS = re.compile(rb"^\* \d+ EXISTS\b", re.IGNORECASE)
_IDLE_TAGS = itertools.count(1)


class MailboxError(Exception):
    """The mailbox could not be reached or refused us (wrong password, no such folder)."""


@contextmanager
def opened(settings: dict) -> Iterator["Mailbox"]:
    """Log in to the channel's IMAP mailbox and select its folder; log out afterwards."""
    port = int(settings.get("imap_port") or (993 if settings.get("imap_tls") else 143))
    kind = imaplib.IMAP4_SSL if settings.get("imap_tls") else imaplib.IMAP4
    try:
        connection = kind(settings["imap_host"], port, timeout=TIMEOUT_SECONDS)
    except (OSError, imaplib.IMAP4.error) as error:
        raise MailboxError(str(error)) from error
    try:
        connection.login(settings.get("imap_username") or "", settings.get("imap_password") or "")
        status, _ = connection.select(_quoted(settings.get("imap_folder") or "INBOX"))
        if status != "OK":
            raise MailboxError(f"no folder {settings.get('imap_folder') or 'INBOX'}")
    except (OSError, imaplib.IMAP4.error, MailboxError) as error:
        connection.shutdown()
        raise MailboxError(str(error)) from error
    try:
        yield Mailbox(connection)
    finally:
        try:
            connection.logout()
        except (OSError, imaplib.IMAP4.error):  # the connection dropped or was cut: close our end
            try:
                connection.shutdown()
            except OSError:
                pass


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Mailbox:
    """A selected folder: the messages not yet stored, and marking each once it is."""

    def __init__(self, connection: imaplib.IMAP4):
        self.connection = connection

    def _uid(self, command: str, *args) -> tuple[str, list]:
        """A UID command; a dropped connection is a MailboxError like any other failure to reach the mailbox."""
        try:
            return self.connection.uid(command, *args)
        except (OSError, imaplib.IMAP4.error) as error:
            raise MailboxError(f"{command} failed: {error}") from error

    def can_idle(self) -> bool:
        """Whether the server offers IDLE (asked after login: some announce it only then)."""
        try:
            status, data = self.connection.capability()
        except (OSError, imaplib.IMAP4.error) as error:
            raise MailboxError(str(error)) from error
        return status == "OK" and b"IDLE" in b" ".join(data or []).upper().split()

    def idle(self, seconds: float) -> bool:
        """Wait in IDLE up to `seconds` (at most IDLE_SECONDS) for new mail; True if the server announced some.

        Raises MailboxError when the connection drops or the server refuses IDLE.
        """
        tag = b"SBIDLE%d" % next(_IDLE_TAGS)
        try:
            self.connection.send(tag + b" IDLE\r\n")
            answer = self.connection.readline()
            if not answer.startswith(b"+"):
                raise MailboxError(f"IDLE refused: {answer[:200]!r}")
            news = self._wait_for_news(time.monotonic() + min(seconds, IDLE_SECONDS))
            self.connection.send(b"DONE\r\n")
            while True:  # untagged news may still come before IDLE's own answer
                line = self.connection.readline()
                if not line:
                    raise MailboxError("the connection closed")
                if line.startswith(tag + b" "):
                    if not line[len(tag) + 1:].upper().startswith(b"OK"):
                        raise MailboxError(f"IDLE failed: {line[:200]!r}")
                    return news
                news = news or _NEWS.match(line) is not None
        except (OSError, imaplib.IMAP4.error) as error:
            raise MailboxError(str(error)) from error

    def interrupt(self) -> None:
        """Cut the connection from another thread: a wait in IDLE ends at once (with MailboxError)."""
        try:
            self.connection.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _wait_for_news(self, deadline: float) -> bool:
        """Read the server's untagged lines until one announces mail (True) or the deadline passes (False).

        What imaplib already buffered is read first, without blocking, so select()
        only ever waits on a socket with nothing unread behind it.
        """
        partial, readable = b"", False
        while True:
            chunk = self._read_available()
            if chunk:
                partial, readable = partial + chunk, False
                if partial.endswith(b"\n"):
                    line, partial = partial, b""
                    if line.upper().startswith(b"* BYE"):
                        raise MailboxError(f"the server closed the connection: {line[:200]!r}")
                    if _NEWS.match(line):
                        return True
                continue
            if readable:  # select said there was something, and it was the end
                raise MailboxError("the connection closed")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            readable = bool(select.select([self.connection.sock], [], [], remaining)[0])
            if not readable:
                return False

    def _read_available(self) -> bytes:
        """A line (or the start of one) that is buffered or already arrived; b"" if nothing has."""
        sock = self.connection.sock
        sock.setblocking(False)
        try:
            return self.connection.file.readline()
        except ssl.SSLWantReadError:  # TLS's way of saying nothing has arrived
            return b""
        finally:
            sock.settimeout(TIMEOUT_SECONDS)

    def waiting(self) -> list[int]:
        """UIDs of messages neither stored nor refused yet, oldest first, at most BATCH."""
        status, data = self._uid("SEARCH", None, "UNKEYWORD", STORED, "UNKEYWORD", REFUSED)
        if status != "OK":
            raise MailboxError(f"SEARCH failed: {data!r}")
        return [int(uid) for uid in (data[0] or b"").split()][:BATCH]

    def read(self, uid: int) -> bytes | None:
        """The raw message (without marking it \\Seen), or None if it is gone."""
        status, data = self._uid("FETCH", str(uid), "(BODY.PEEK[])")
        if status != "OK":
            raise MailboxError(f"FETCH {uid} failed: {data!r}")
        for item in data:
            if isinstance(item, tuple) and _UID.search(item[0]):
                return item[1]
        return None

    def mark(self, uid: int, keyword: str) -> None:
        """Add a keyword to a message (STORED or REFUSED)."""
        status, data = self._uid("STORE", str(uid), "+FLAGS", f"({keyword})")
        if status != "OK":
            raise MailboxError(f"STORE {uid} failed: {data!r}")
