"""What an agent adds to a mail they send: recipients and files, checked before anything is stored.

Addresses are bare addr-specs in printable ASCII (no display name, no comma,
no CR or LF), so none can split into two recipients or add a header; a list
is capped so one request cannot mail thousands. Files arrive base64-encoded,
are capped in number and total size, and are typed by their bytes (the type a
browser or the sender claims is not trusted), as received attachments are.
"""

import base64
import binascii
import codecs
import re

from workspace.channels.email.content import Attachment, sniff
from workspace.channels.email.parsing import one_line
from workspace.errors import ValidationError

# Addresses per field (to, cc, bcc) an agent may give.
MAX_ADDRESSES = 50
# Files per mail, and their total size once decoded (a typical relay accepts 25 MB, base64 included).
MAX_FILES = 10
MAX_FILES_BYTES = 10 * 1024 * 1024
MAX_FILENAME = 255
# A request carrying files may be this big: base64 makes 3 bytes 4, plus the rest of the JSON.
MAX_REQUEST_BYTES = MAX_FILES_BYTES * 4 // 3 + 1024 * 1024
# An addr-spec as RFC 5321 allows it in practice: dot-atom local part, a domain of labels with a dot.
ADDRESS_PATTERN = (r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_ADDRESS = re.compile(ADDRESS_PATTERN)


def is_address(value: str) -> bool:
    """Whether the string is one bare address we would send to."""
    return len(value) <= 254 and _ADDRESS.fullmatch(value) is not None


def addresses(value, field: str, *, required: bool = False) -> list[str]:
    """Validated addresses from a JSON list (domains lower-cased, duplicates dropped, order kept).

    Args:
        value: what the request gave (None when absent).
        field: its name, for the error.
        required: whether at least one address is needed.

    Returns:
        The addresses.

    Raises:
        ValidationError: not a list of at most MAX_ADDRESSES addresses, or one that is not an address.
    """
    if value is None:
        value = []
    if not isinstance(value, list) or len(value) > MAX_ADDRESSES:
        raise ValidationError(f"{field}: a list of at most {MAX_ADDRESSES} addresses", code="invalid_field")
    found = []
    for item in value:
        if not isinstance(item, str) or not is_address(item):
            shown = one_line(str(item))[:60]
            raise ValidationError(f"{field}: {shown!r} is not an email address", code="invalid_field")
        local, _, domain = item.rpartition("@")
        found.append(f"{local}@{domain.lower()}")
    found = list(dict.fromkeys(found))
    if required and not found:
        raise ValidationError(f"{field}: at least one address", code="invalid_field")
    return found


def files(value) -> list[Attachment]:
    """Decoded attachments from a JSON list of {"filename", "content_base64"}, typed by their bytes.

    Raises:
        ValidationError: too many files, a name or content that is not valid, or over MAX_FILES_BYTES in all
            (code attachments_too_large).
    """
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_FILES:
        raise ValidationError(f"attachments: a list of at most {MAX_FILES} files", code="invalid_field")
    found, total = [], 0
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("filename"), str) \
                or not isinstance(item.get("content_base64"), str):
            raise ValidationError("attachments: each is {filename, content_base64}", code="invalid_field")
        name = _filename(item["filename"])
        try:
            data = base64.b64decode(item["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError(f"attachments: {name} is not base64", code="invalid_field") from None
        total += len(data)
        if total > MAX_FILES_BYTES:
            raise ValidationError(f"attachments: at most {MAX_FILES_BYTES // (1024 * 1024)} MB in all",
                                  code="attachments_too_large")
        kind = file_type(data)
        found.append(Attachment(filename=name, declared_type=kind, sniffed_type=kind, size=len(data), data=data))
    return found


def file_type(data: bytes) -> str:
    """The type a file's bytes show; UTF-8 text without NUL is text/plain, anything unknown octet-stream."""
    kind = sniff(data)
    if kind == "application/octet-stream" and b"\x00" not in data[:65536]:
        try:  # incremental: a character cut at the end of the sample is not an error
            codecs.getincrementaldecoder("utf-8")().decode(data[:65536], final=False)
        except UnicodeDecodeError:
            return kind
        return "text/plain"
    return kind


def _filename(value: str) -> str:
    """A file name on one line, without any folder part; "attachment" when nothing is left."""
    name = one_line(value).replace("\\", "/").rpartition("/")[2].strip(" .")
    return name[:MAX_FILENAME] or "attachment"
