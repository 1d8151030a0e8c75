"""A message's body: the text an agent reads, its sanitised HTML, and its attachments.

The parts are walked without recursion and to a bounded depth, so 1,000 nested
multiparts cost nothing. Text is preferred over HTML (multipart/alternative);
HTML alone is turned into text for the conversation and kept sanitised for
display. The new text is split from the quoted history and the signature by
mail-parser-reply. Attachments are stored as sent (never unpacked, so an
archive bomb stays a small file), up to a size, with the type their bytes show.
"""

from dataclasses import dataclass, field
from email.message import EmailMessage

import nh3
from mailparser_reply import EmailReplyParser
from mailparser_reply.parser import EmailMessage as ReplyMessage

from workspace.channels.html import html_to_text

# Parts nested deeper than this are not read (a defect is recorded instead).
MAX_DEPTH = 20
MAX_PARTS = 500
# Text kept per message: the webhook limit every other channel has.
MAX_TEXT = 1024 * 1024
MAX_HTML = 2 * 1024 * 1024
# An attachment over this is recorded (name, type, size) but its bytes are not kept.
MAX_ATTACHMENT = 10 * 1024 * 1024
MAX_ATTACHMENTS = 50
# The languages mail-parser-reply knows quoting and signature phrases in.
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pl", "sv", "da", "cs", "ja", "ko", "zh"]
# Of those, the ones the library has phrases for (EmailReplyParser drops the others the same way).
_LANGUAGES = EmailReplyParser(languages=REPLY_LANGUAGES).languages


def _compiled_patterns() -> dict:
    """The reply parser's three patterns, compiled once. The library builds and compiles them again for
    every message (about half its time on a short mail), but takes them ready-made as dataclass fields."""
    template = ReplyMessage(text="", languages=list(_LANGUAGES))
    return {"_header_regex": template.HEADER_REGEX, "_disclaimers_regex": template.DISCLAIMERS_REGEX,
            "_signature_regex": template.SIGNATURE_REGEX}


_PATTERNS = _compiled_patterns()

# What sanitised mail HTML may contain: layout and text, links, images only by cid:.
ALLOWED_TAGS = {"a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "div",
                "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "li",
                "ol", "p", "pre", "q", "s", "small", "span", "strike", "strong", "sub", "sup", "table", "tbody",
                "td", "tfoot", "th", "thead", "tr", "u", "ul"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"},
                      "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
# Magic numbers of the types agents open most; anything else is application/octet-stream.
SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF87a", "image/gif"),
              (b"GIF89a", "image/gif"), (b"%PDF-", "application/pdf"), (b"PK\x03\x04", "application/zip"),
              (b"\x1f\x8b", "application/gzip"), (b"BZh", "application/x-bzip2"),
              (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"), (b"Rar!", "application/vnd.rar"),
              (b"\xfd7zXZ\x00", "application/x-xz"), (b"MZ", "application/x-msdownload"))


@dataclass(slots=True)
class Attachment:
    """One attached or inline file as received; `data` is None when it was over the size limit."""

    filename: str
    declared_type: str
    sniffed_type: str
    size: int
    data: bytes | None
    content_id: str | None = None
    inline: bool = False

    def as_dict(self) -> dict:
        """What the message row keeps of it (the bytes live in the attachments table)."""
        return {"filename": self.filename, "declared_type": self.declared_type, "type": self.sniffed_type,
                "size": self.size, "stored": self.data is not None, "content_id": self.content_id,
                "inline": self.inline}


@dataclass(slots=True)
class Body:
    """The readable content of a message."""

    text: str = ""
    quoted: str = ""
    signature: str = ""
    html: str = ""
    remote_images: int = 0
    attachments: list[Attachment] = field(default_factory=list)
    parts: list[EmailMessage] = field(default_factory=list)


def leaf_parts(message: EmailMessage) -> list[EmailMessage]:
    """Every non-multipart part, in order, at most MAX_PARTS, none deeper than MAX_DEPTH."""
    leaves, stack = [], [(message, 0)]
    while stack and len(leaves) < MAX_PARTS:
        part, depth = stack.pop()
        if part.is_multipart():
            children = part.get_payload()
            if depth < MAX_DEPTH and isinstance(children, list):
                stack.extend((child, depth + 1) for child in reversed(children))
            continue
        leaves.append(part)
    return leaves


def decode_text(part: EmailMessage) -> str:
    """A text part's content: its declared charset if it holds, else UTF-8, else Windows-1252."""
    payload = part.get_payload(decode=True) or b""
    declared = part.get_content_charset() or "us-ascii"
    for charset in (declared, "utf-8"):
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("cp1252", errors="replace")  # the charset that mislabelled mail most often is


def sniff(data: bytes) -> str:
    """The type a file's first bytes show."""
    for magic, kind in SIGNATURES:
        if data.startswith(magic):
            return kind
    return "application/octet-stream"


def read_body(message: EmailMessage) -> Body:
    """Read the text, HTML and attachments of a parsed message."""
    body = Body()
    plain = html = None
    body.parts = [message, *leaf_parts(message)]
    for part in body.parts[1:]:
        kind = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        if kind in ("text/plain", "text/html") and disposition != "attachment" and not _filename(part):
            if kind == "text/plain" and plain is None:
                plain = decode_text(part)
            elif kind == "text/html" and html is None:
                html = decode_text(part)
            continue
        if len(body.attachments) < MAX_ATTACHMENTS and not part.is_multipart():
            body.attachments.append(_attachment(part, disposition))
    if html:
        body.html, body.remote_images = sanitise(html[:MAX_HTML])
    for attachment in body.attachments:  # shown in the HTML, whatever its disposition says
        if attachment.content_id and f"cid:{attachment.content_id}" in body.html:
            attachment.inline = True
    text = plain if plain is not None and plain.strip() else html_to_text(html or "")
    body.text, body.quoted, body.signature = split_reply(text[:MAX_TEXT])
    return body


def split_reply(text: str) -> tuple[str, str, str]:
    """Split a message's text into what is new, the quoted history, and the signature."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return "", "", ""
    try:
        replies = ReplyMessage(text=text, languages=list(_LANGUAGES), **_PATTERNS).read().replies
    except Exception:  # noqa: BLE001 - a third-party heuristic: the whole text is a safe answer
        return text, "", ""
    if not replies or not replies[0].body.strip():
        return text, "", ""
    latest = replies[0]
    quoted = "\n\n".join(reply.full_body for reply in replies[1:]).strip()
    return latest.body.strip(), quoted, (latest.signatures or "").strip()


def sanitise(html: str) -> tuple[str, int]:
    """Return mail HTML made inert (no scripts, handlers, styles or remote images) and how many images were dropped."""
    dropped = 0

    def keep(tag: str, attribute: str, value: str):
        nonlocal dropped
        if tag == "img" and attribute == "src":
            if value.lower().startswith("cid:"):
                return value
            dropped += 1  # a remote image would tell the sender the mail was read
            return None
        return value

    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, attribute_filter=keep,
                      clean_content_tags={"script", "style", "title", "head"},
                      url_schemes={"http", "https", "mailto", "cid"}, link_rel="noopener noreferrer nofollow")
    return clean.strip(), dropped


def _filename(part: EmailMessage) -> str:
    try:
        name = part.get_filename() or ""
    except (LookupError, ValueError, TypeError):
        name = ""
    return " ".join(str(name).split())[:255]


def _attachment(part: EmailMessage, disposition: str) -> Attachment:
    data = part.get_payload(decode=True) or b""
    raw_id = next((str(value) for key, value in part.raw_items() if key.lower() == "content-id"), "")
    content_id = " ".join(raw_id.split()).strip("<>")[:255] or None
    return Attachment(
        filename=_filename(part) or "attachment", declared_type=part.get_content_type()[:100],
        sniffed_type=sniff(data), size=len(data), data=data if len(data) <= MAX_ATTACHMENT else None,
        content_id=content_id,
        inline=disposition == "inline" or (content_id is not None and disposition != "attachment"))
