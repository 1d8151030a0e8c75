"""An IMAP mailbox the brand already has: new messages read without touching what people see.

Messages are read with BODY.PEEK (so \\Seen stays as it was) and, once
stored, marked with the keyword `$SwitchboardStored`; the next poll asks only
for messages without it, so nothing is imported twice and nothing is moved or
deleted. A message that cannot be read as mail is marked `$SwitchboardRefused`
and never blocks the rest.
"""

import imaplib
import re
from collections.abc import Iterator
from contextlib import contextmanager

STORED = "$SwitchboardStored"
REFUSED = "$SwitchboardRefused"
# Messages read per poll: the rest wait for the next one.
BATCH = 200
TIMEOUT_SECONDS = 30
_UID = re.compile(rb"UID (\d+)")


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
        except (OSError, imaplib.IMAP4.error):
            pass


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Mailbox:
    """A selected folder: the messages not yet stored, and marking each once it is."""

    def __init__(self, connection: imaplib.IMAP4):
        self.connection = connection

    def waiting(self) -> list[int]:
        """UIDs of messages neither stored nor refused yet, oldest first, at most BATCH."""
        status, data = self.connection.uid("SEARCH", None, "UNKEYWORD", STORED, "UNKEYWORD", REFUSED)
        if status != "OK":
            raise MailboxError(f"SEARCH failed: {data!r}")
        return [int(uid) for uid in (data[0] or b"").split()][:BATCH]

    def read(self, uid: int) -> bytes | None:
        """The raw message (without marking it \\Seen), or None if it is gone."""
        status, data = self.connection.uid("FETCH", str(uid), "(BODY.PEEK[])")
        if status != "OK":
            raise MailboxError(f"FETCH {uid} failed: {data!r}")
        for item in data:
            if isinstance(item, tuple) and _UID.search(item[0]):
                return item[1]
        return None

    def mark(self, uid: int, keyword: str) -> None:
        """Add a keyword to a message (STORED or REFUSED)."""
        status, data = self.connection.uid("STORE", str(uid), "+FLAGS", f"({keyword})")
        if status != "OK":
            raise MailboxError(f"STORE {uid} failed: {data!r}")
