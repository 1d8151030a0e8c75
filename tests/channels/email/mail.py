"""Raw messages for the email tests, built as mail clients write them."""

from email.message import EmailMessage
from email.policy import SMTP


def plain(*, sender="Ann Customer <ann@customer.example>", to="support@example.test", subject="Help, please",
          text="My order never arrived.", message_id="<m1@customer.example>", headers=None) -> bytes:
    """A text/plain message with the given headers, as bytes with CRLF line ends."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message["Date"] = "Sun, 06 Dec 2026 05:00:00 +0000"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    return message.as_bytes(policy=SMTP)


def raw(headers: str, body: str = "", *, encoding="utf-8") -> bytes:
    """A message written by hand: header lines, a blank line, the body (CRLF line ends)."""
    return (headers.strip("\n").replace("\n", "\r\n") + "\r\n\r\n" + body.replace("\n", "\r\n")).encode(encoding)
