"""Reading one raw RFC 5322 message into plain data, whatever the sender got wrong.

Real mail lies about its charsets, nests parts without end, leaves boundaries
out and carries headers of any size; none of it may stop the message being
read or make us store half of it. The parser is the standard library's with
`policy.default` (remembering parsed headers); everything read from the message is bounded here (header
size, nesting depth, recipients kept, attachment sizes) before it is stored.
"""

import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import getaddresses, parsedate_to_datetime

from workspace.channels.email import automatic, content
from workspace.errors import ValidationError

# A message's header block may be this big; Postfix's own default limit is 100 KiB.
MAX_HEADER_BYTES = 256 * 1024
# Addresses kept per recipient header; the rest are counted, not stored.
MAX_RECIPIENTS = 100
# Message-IDs kept from References: the newest ones, which are the ones threads are found by.
MAX_REFERENCES = 50
MAX_ID = 255
_MESSAGE_ID = re.compile(r"<([^<>\s]{1,250})>")
_HEADER_END = re.compile(rb"\r?\n\r?\n")


@dataclass(frozen=True, slots=True)
class Address:
    """One mailbox: its address (lower-cased domain) and display name."""

    address: str
    name: str = ""

    def as_dict(self) -> dict:
        """The address as stored with the message."""
        return {"address": self.address, "name": self.name}


@dataclass(slots=True)
class Mail:
    """What Switchboard keeps of one received message."""

    message_id: str
    sender: Address | None
    subject: str
    to: list[Address]
    cc: list[Address]
    reply_to: list[Address]
    recipients_dropped: int
    in_reply_to: str | None
    references: list[str]
    date: object  # datetime | None
    # The new text of the message, its quoted history and its signature, split apart.
    text: str
    quoted: str
    signature: str
    # Sanitised HTML (see content.sanitise), "" when the message had none.
    html: str
    # Remote images taken out of the HTML (loading one would tell the sender the mail was read).
    remote_images: int
    attachments: list[content.Attachment]
    # A delivery status notification: the addresses that failed for good.
    bounced: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    defects: list[str] = field(default_factory=list)


def header_block_size(raw: bytes) -> int:
    """How many bytes the message's header block takes (all of it when there is no body)."""
    end = _HEADER_END.search(raw)
    return end.start() if end else len(raw)


class _RememberingPolicy(EmailPolicy):
    """policy.default, remembering the headers it parsed: the email package parses a header again on every
    read (a part's Content-Type some six times per message), and most Content-Type and MIME-Version values
    repeat from message to message. Header objects are immutable, so sharing them is safe."""

    def header_fetch_parse(self, name, value):
        """The parsed header, from the cache when this name and value were parsed before."""
        key = (name.lower(), value)
        found = _PARSED.get(key)
        if found is None:
            found = super().header_fetch_parse(name, value)
            if len(value) <= 200:  # long values are rarely repeated; keep the cache small
                _PARSED[key] = found
                if len(_PARSED) > PARSED_HEADERS_KEPT:
                    _PARSED.popitem(last=False)
        return found


# Parsed headers remembered (by name and raw value), the oldest forgotten first.
PARSED_HEADERS_KEPT = 2000
_PARSED: OrderedDict = OrderedDict()
READING = _RememberingPolicy()


def parse_message(raw: bytes) -> Mail:
    """Read a raw message into a Mail.

    Args:
        raw: the message as received (bytes, any line endings).

    Returns:
        The message's addresses, threading headers, text, HTML and attachments.

    Raises:
        ValidationError: the message cannot be read as mail at all (no headers,
            headers over MAX_HEADER_BYTES, parts nested beyond reading).
    """
    if not raw.strip():
        raise ValidationError("the message is empty", code="invalid_message")
    if header_block_size(raw) > MAX_HEADER_BYTES:
        raise ValidationError(f"the message's headers are over {MAX_HEADER_BYTES // 1024} KiB",
                              code="headers_too_large")
    try:
        message = message_from_bytes(raw, policy=READING)
    except RecursionError:
        raise ValidationError("the message's parts are nested too deeply to read", code="invalid_message")
    if not message.keys():
        raise ValidationError("the message has no headers", code="invalid_message")
    body = content.read_body(message)
    to, to_dropped = _addresses(message, "To")
    cc, cc_dropped = _addresses(message, "Cc")
    senders, _ = _addresses(message, "From")
    reply_to, _ = _addresses(message, "Reply-To")
    bounced = automatic.bounced_recipients(message)
    references = message_ids(_raw_header(message, "References"))
    if bounced:  # a bounce threads under the mail it returns
        references += automatic.original_message_ids(message)
    return Mail(
        message_id=message_id_of(message, raw),
        sender=senders[0] if senders else None,
        subject=_text_header(message, "Subject")[:500],
        to=to, cc=cc, reply_to=reply_to, recipients_dropped=to_dropped + cc_dropped,
        in_reply_to=next(iter(message_ids(_raw_header(message, "In-Reply-To"))), None),
        references=references[-MAX_REFERENCES:], bounced=bounced,
        date=_date(message),
        text=body.text, quoted=body.quoted, signature=body.signature, html=body.html, remote_images=body.remote_images,
        attachments=body.attachments,
        headers=automatic_headers(message),
        defects=sorted({type(defect).__name__ for part in body.parts for defect in part.defects})[:20],
    )


def message_ids(value: str) -> list[str]:
    """The Message-IDs in a header value (In-Reply-To, References), without angle brackets, in order."""
    return list(dict.fromkeys(_MESSAGE_ID.findall(value or "")))


def message_id_of(message: EmailMessage, raw: bytes) -> str:
    """The message's Message-ID; a digest of the raw bytes when it has none, so a resend is still a duplicate."""
    found = message_ids(_raw_header(message, "Message-ID"))
    if found:
        return found[0][:MAX_ID]
    return f"sha256.{hashlib.sha256(raw).hexdigest()}@switchboard.invalid"


# Headers kept for loop and bounce decisions (see automatic.py) and shown to agents.
KEPT_HEADERS = ("Auto-Submitted", "Precedence", "X-Auto-Response-Suppress", "X-Loop", "List-Id",
                "List-Unsubscribe", "Return-Path", "X-Autoreply", "X-Autorespond", "Content-Type")


def automatic_headers(message: EmailMessage) -> dict[str, str]:
    """The headers that say whether a machine sent the message, each at most 500 characters."""
    kept = {}
    for name in KEPT_HEADERS:
        value = _raw_header(message, name)
        if value:
            kept[name] = value[:500]
    return kept


def _raw_header(message: EmailMessage, name: str) -> str:
    """A header's raw value (unfolded), or "": never raises on a malformed header."""
    wanted = name.lower()
    for key, value in message.raw_items():
        if key.lower() == wanted:
            return re.sub(r"\r?\n[ \t]", " ", str(value)).strip()
    return ""


def _text_header(message: EmailMessage, name: str) -> str:
    """A text header decoded (RFC 2047, any charset Python knows), control characters removed."""
    value = _raw_header(message, name)
    try:
        decoded = str(make_header(decode_header(value)))
    except (LookupError, UnicodeDecodeError, ValueError, AssertionError):
        decoded = value  # an unknown or lying charset in an encoded word: keep what was written
    return one_line(decoded)


def one_line(value: str) -> str:
    """The value on one line: CR, LF and other control characters become spaces."""
    return re.sub(r"[\x00-\x1f\x7f]+", " ", value).strip()


def _addresses(message: EmailMessage, name: str) -> tuple[list[Address], int]:
    """A header's mailboxes (at most MAX_RECIPIENTS) and how many more there were."""
    value = _raw_header(message, name)
    if not value:
        return [], 0
    found: list[Address] = []
    seen = set()
    for display, address in getaddresses([value]):
        address = normalise_address(address)
        if not address or address in seen:
            continue
        seen.add(address)
        found.append(Address(address, _decode_words(display)[:255]))
    return found[:MAX_RECIPIENTS], max(0, len(found) - MAX_RECIPIENTS)


def normalise_address(address: str) -> str:
    """An address as compared and stored: trimmed, domain lower-cased; "" when it is not one."""
    address = one_line(address or "")
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or len(address) > 254 or " " in address:
        return ""
    return f"{local}@{domain.lower()}"


def _decode_words(value: str) -> str:
    try:
        return one_line(str(make_header(decode_header(value))))
    except (LookupError, UnicodeDecodeError, ValueError, AssertionError):
        return one_line(value)


def _date(message: EmailMessage):
    try:
        moment = parsedate_to_datetime(_raw_header(message, "Date"))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return moment if moment is not None and moment.tzinfo is not None else None
