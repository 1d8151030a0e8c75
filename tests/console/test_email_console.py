"""An email conversation in the real browser: addresses, attachments and inline images shown, the quoted
history folded, and hostile HTML inert (no script runs, no handler fires, nothing remote is fetched)."""

import smtplib
import struct
import zlib
from email.message import EmailMessage
from email.policy import SMTP

import pytest
import sqlalchemy as sa

from tests.channels.email.conftest import free_port
from tests.console.factories import serious_violations
from tests.factories import SECRET, drained, wait_for
from workspace.cli.smtp import start_listener
from workspace.extensions import db
from workspace.models import Channel, Message

HOSTILE = ('<div onmouseover="window.pwned=1">Formatted <b>hello</b>'
           '<script>window.pwned=2</script><img src="x" onerror="window.pwned=3">'
           '<img src="https://tracker.example/open.gif"><img src="cid:logo@x" alt="our logo">'
           '<a href="javascript:window.pwned=4">click me</a><iframe srcdoc="<script>parent.pwned=5</script>"></iframe>'
           '<svg onload="window.pwned=6"></svg><style>body{display:none}</style></div>')


def png() -> bytes:
    """A valid 2x2 PNG."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.fixture
def mailed(app, live_server):
    """A hostile but realistic email received over SMTP on channel 'mail'; returns its conversation id."""
    with app.app_context():
        db.session.add(Channel(slug="mail", name="Support", kind="email", secret=SECRET,
                               settings={"address": "support@example.test"}))
        db.session.commit()
    controller = start_listener(app, "127.0.0.1", free_port())
    message = EmailMessage()
    message["From"], message["To"] = "Ann Customer <ann@customer.example>", "support@example.test"
    message["Cc"], message["Subject"] = "bob@customer.example", "My order is late"
    message["Message-ID"] = "<browser@customer.example>"
    message.set_content("Where is my order?\n\nOn Sun, Dec 6, 2026 Support wrote:\n> It shipped yesterday.")
    message.add_alternative(HOSTILE, subtype="html")
    message.get_payload()[1].add_related(png(), maintype="image", subtype="png", cid="<logo@x>", filename="logo.png")
    message.add_attachment(b"%PDF-1.4 receipt", maintype="application", subtype="pdf", filename="receipt.pdf")
    try:
        with smtplib.SMTP("127.0.0.1", controller.port, timeout=30) as client:
            client.sendmail("ann@customer.example", ["support@example.test"], message.as_bytes(policy=SMTP))
    finally:
        controller.stop()
    # The live server's worker reads what the listener spooled, and its dispatcher routes it.
    assert wait_for(lambda: stored_conversation(app) is not None and drained(app), timeout=60)
    return stored_conversation(app)


def stored_conversation(app) -> int | None:
    """The conversation the mail was stored in, once a worker has read it."""
    with app.app_context():
        found = db.session.scalar(sa.select(Message.conversation_id))
        db.session.remove()
        return found


def test_an_email_shows_its_parts_and_its_html_stays_inert(open_console, live_server, mailed):
    """From, To, Cc, subject and files show; quoted history is folded; the formatted view runs nothing."""
    page = open_console("ana@example.com")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    assert wait_for(lambda: page.goto(f"{live_server}/conversations/{mailed}") and
                    page.locator("#thread .email-head").count() > 0, timeout=30)
    head = page.inner_text("#thread .email-head")
    assert "Ann Customer <ann@customer.example>" in head and "bob@customer.example" in head
    assert "My order is late" in head
    assert page.inner_text("#thread .message .text >> nth=0") == "Where is my order?"
    quoted = page.locator("#thread .email-quoted")
    assert quoted.get_attribute("open") is None and not page.is_visible("text=It shipped yesterday.")
    quoted.locator("summary").click()
    assert page.is_visible("text=It shipped yesterday.")
    assert page.get_attribute("#thread .email-files a", "href").startswith("/api/v1/attachments/")
    page.click("#thread summary:has-text('Formatted view')")
    page.wait_for_selector("#thread .email-html b:has-text('hello')")
    page.hover("#thread .email-html")
    page.click("#thread .email-html >> text=click me")
    assert page.evaluate("window.pwned") is None
    assert dialogs == []
    html = page.inner_html("#thread .email-html")
    for inert in ("script", "onerror", "onmouseover", "javascript:", "iframe", "svg", "tracker.example", "style"):
        assert inert not in html
    assert page.evaluate("[...document.querySelectorAll('#thread .email-html img')].map(i => i.naturalWidth)") == [2]
    assert not [url for url in requests if "tracker.example" in url]
    assert serious_violations(page, "#thread") == []
    page.set_viewport_size({"width": 360, "height": 800})
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
