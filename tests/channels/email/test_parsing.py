"""Reading real-world and hostile mail: the right sender, subject and text, bounded, never half-read."""

import base64
import io
import zipfile
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.policy import compat32
from email.utils import getaddresses
from pathlib import Path

import pytest

from tests.channels.email.mail import plain, raw
from workspace.channels.email.automatic import automatic_reason
from workspace.channels.email.content import MAX_ATTACHMENT, sanitise
from workspace.channels.email.outgoing import reply_subject
from workspace.channels.email.parsing import MAX_RECIPIENTS, parse_message
from workspace.errors import ValidationError


def test_a_plain_message_gives_its_sender_subject_text_and_ids():
    """From, Subject, Message-ID and text come out as written."""
    mail = parse_message(plain(headers={"In-Reply-To": "<a@x>", "References": "<r@x> <a@x>"}))
    assert (mail.sender.address, mail.sender.name) == ("ann@customer.example", "Ann Customer")
    assert mail.subject == "Help, please"
    assert mail.message_id == "m1@customer.example"
    assert mail.text == "My order never arrived."
    assert (mail.in_reply_to, mail.references) == ("a@x", ["r@x", "a@x"])


def test_encoded_words_in_any_charset_are_decoded():
    """RFC 2047 subjects and names in UTF-8, ISO-8859-1 and Shift_JIS read as their text."""
    mail = parse_message(raw(
        "From: =?iso-8859-1?q?Andr=E9?= <andre@example.fr>\nTo: s@example.test\n"
        "Subject: =?utf-8?b?w4ljaGVjIGRlIGxpdnJhaXNvbg==?= =?shift_jis?b?gqCCog==?=\nMessage-ID: <e@x>",
        "Bonjour"))
    assert mail.sender.name == "André"
    assert mail.subject == "Échec de livraisonあい"


def test_a_lying_charset_falls_back_instead_of_failing():
    """A part that says UTF-8 but is Windows-1252, or names a charset nobody knows, is still read."""
    lying = raw("From: a@x.example\nSubject: s\nMessage-ID: <l@x>\nContent-Type: text/plain; charset=utf-8",
                "Caf\xe9 cr\xe8me \u20ac 5", encoding="cp1252")
    assert parse_message(lying).text == "Café crème € 5"
    unknown = raw("From: a@x.example\nSubject: =?x-unknown?q?hi?=\nMessage-ID: <u@x>\n"
                  "Content-Type: text/plain; charset=x-no-such-charset", "plain words")
    mail = parse_message(unknown)
    assert mail.text == "plain words"
    assert "hi" in mail.subject


def test_text_is_preferred_over_html_in_an_alternative():
    """multipart/alternative: the text part is the post; the HTML is kept, sanitised."""
    message = EmailMessage()
    message["From"], message["Subject"], message["Message-ID"] = "a@x.example", "alt", "<alt@x>"
    message.set_content("The text version.")
    message.add_alternative("<p>The <b>HTML</b> version.<script>alert(1)</script></p>", subtype="html")
    mail = parse_message(message.as_bytes())
    assert mail.text == "The text version."
    assert mail.html == "<p>The <b>HTML</b> version.</p>"


def test_html_only_mail_becomes_text_and_hostile_html_is_inert():
    """Scripts, handlers, styles, javascript: links and remote images are gone; cid: images stay."""
    hostile = ('<div onclick="steal()" style="background:url(https://t.example/p)">Hi'
               '<script>alert(1)</script><img src="https://tracker.example/pixel.gif" onerror="x()">'
               '<img src="cid:logo@x" alt="logo"><a href="javascript:alert(1)">click</a>'
               '<iframe src="https://evil.example"></iframe><style>body{}</style>'
               '<form action="https://evil.example"><input name=q></form></div>')
    mail = parse_message(raw("From: a@x.example\nSubject: s\nMessage-ID: <h@x>\nContent-Type: text/html", hostile))
    for inert in ("script", "onclick", "onerror", "style", "javascript:", "tracker.example", "iframe", "<form",
                  "<input", "t.example"):
        assert inert not in mail.html
    assert '<img src="cid:logo@x" alt="logo">' in mail.html
    assert mail.remote_images == 1
    assert mail.text.startswith("Hi")


def test_quoted_history_and_signature_are_split_from_the_new_text():
    """The reply parser separates what the customer wrote now from what they quoted."""
    body = ("Thanks, that fixed it.\n\nBest,\nAnn\n--\nAnn Smith\nACME Ltd\n\n"
            "On Sun, Dec 6, 2026 at 5:00 AM Support <support@example.test> wrote:\n> Please restart it.\n")
    mail = parse_message(plain(text=body))
    assert mail.text == "Thanks, that fixed it."
    assert "Please restart it." in mail.quoted
    assert "Ann Smith" in mail.signature


def test_attachments_keep_their_bytes_and_the_type_their_bytes_show():
    """An attachment that claims to be a PDF but is a PNG is stored as image/png; inline cid: images are kept."""
    message = EmailMessage()
    message["From"], message["Subject"], message["Message-ID"] = "a@x.example", "files", "<f@x>"
    message.set_content("See attached.")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    message.add_attachment(png, maintype="application", subtype="pdf", filename="invoice.pdf")
    message.add_attachment(png, maintype="image", subtype="png", filename="logo.png", cid="<logo@x>",
                           disposition="inline")
    mail = parse_message(message.as_bytes())
    invoice, logo = mail.attachments
    assert (invoice.filename, invoice.declared_type, invoice.sniffed_type, invoice.data) == (
        "invoice.pdf", "application/pdf", "image/png", png)
    assert (logo.content_id, logo.inline) == ("logo@x", True)


def test_an_oversized_attachment_is_recorded_without_its_bytes():
    """Past MAX_ATTACHMENT the name and size are kept, the bytes are not."""
    message = EmailMessage()
    message["From"], message["Subject"], message["Message-ID"] = "a@x.example", "big", "<b@x>"
    message.set_content("Big file.")
    message.add_attachment(b"x" * (MAX_ATTACHMENT + 1), maintype="application", subtype="octet-stream",
                           filename="big.bin")
    (big,) = parse_message(message.as_bytes()).attachments
    assert (big.size, big.data) == (MAX_ATTACHMENT + 1, None)


def test_a_compression_bomb_is_stored_as_sent_and_never_expanded():
    """A zip that would expand to 100 MiB stays a few kilobytes of application/zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("zeros.bin", "w", force_zip64=True) as member:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(100):
                member.write(chunk)
    bomb = buffer.getvalue()
    message = EmailMessage()
    message["From"], message["Subject"], message["Message-ID"] = "a@x.example", "bomb", "<z@x>"
    message.set_content("Open me.")
    message.add_attachment(bomb, maintype="application", subtype="zip", filename="bomb.zip")
    (attachment,) = parse_message(message.as_bytes()).attachments
    assert attachment.size == len(bomb) < 2 * 1024 * 1024
    assert attachment.sniffed_type == "application/zip"
    assert attachment.data == bomb


def test_malformed_mime_and_a_missing_boundary_still_give_the_text():
    """A multipart with no boundary parameter, or a boundary never used, is read as far as it goes."""
    no_boundary = raw("From: a@x.example\nSubject: broken\nMessage-ID: <nb@x>\nContent-Type: multipart/mixed",
                      "Hello from a broken client.")
    mail = parse_message(no_boundary)
    assert mail.sender.address == "a@x.example"
    assert "Hello from a broken client." in mail.text or mail.defects
    unused = raw('From: a@x.example\nSubject: b\nMessage-ID: <ub@x>\nContent-Type: multipart/mixed; boundary="zz"',
                 "--zz\nContent-Type: text/plain\n\nFirst part, never closed")
    assert "First part" in parse_message(unused).text
    garbage_base64 = raw("From: a@x.example\nSubject: b\nMessage-ID: <gb@x>\nContent-Transfer-Encoding: base64",
                         "!!!not base64***")
    parse_message(garbage_base64)  # no exception


def test_parts_nested_a_thousand_deep_are_read_to_a_bound():
    """1,000 nested multiparts neither recurse without end nor stop the message being read."""
    depth = 1000
    opening = "".join(f'--b{i}\nContent-Type: multipart/mixed; boundary="b{i + 1}"\n\n' for i in range(depth))
    closing = "".join(f"--b{i}--\n" for i in reversed(range(depth + 1)))
    body = opening + f"--b{depth}\nContent-Type: text/plain\n\ndeep text\n" + closing
    message = raw('From: a@x.example\nSubject: deep\nMessage-ID: <d@x>\nContent-Type: multipart/mixed; boundary="b0"',
                  body)
    try:
        mail = parse_message(message)
    except ValidationError as error:
        assert error.code == "invalid_message"
    else:
        assert mail.sender.address == "a@x.example"
        assert "deep text" not in mail.text  # beyond the depth read


def test_a_header_over_a_megabyte_is_refused_whole():
    """Headers past the limit are a clear error, not a slow parse or a truncated store."""
    huge = raw("From: a@x.example\nSubject: " + "A" * (1024 * 1024 + 10) + "\nMessage-ID: <big@x>", "x")
    with pytest.raises(ValidationError) as refused:
        parse_message(huge)
    assert refused.value.code == "headers_too_large"


def test_ten_thousand_recipients_are_counted_not_all_kept():
    """To with 10,000 addresses keeps MAX_RECIPIENTS and counts the rest."""
    to = ", ".join(f"user{i}@example.org" for i in range(10_000))
    mail = parse_message(raw(f"From: a@x.example\nTo: {to}\nSubject: many\nMessage-ID: <many@x>", "hi"))
    assert len(mail.to) == MAX_RECIPIENTS
    assert mail.recipients_dropped == 10_000 - MAX_RECIPIENTS


def test_crlf_in_a_subject_never_reaches_an_outbound_header():
    """An encoded CR LF in the subject is read as one line, so our reply's subject cannot add a header."""
    sneaky = "=?utf-8?b?" + base64.b64encode(b"Hi\r\nBcc: victim@example.org").decode() + "?="
    mail = parse_message(raw(f"From: a@x.example\nSubject: {sneaky}\nMessage-ID: <c@x>", "x"))
    assert "\n" not in mail.subject and "\r" not in mail.subject
    assert "\n" not in reply_subject(mail.subject, 7)


def test_a_message_without_headers_or_content_is_refused():
    """Empty input and header-less garbage are clear errors."""
    for garbage in (b"", b"   \r\n", b"\x00\x01\x02 no headers here"):
        with pytest.raises(ValidationError):
            parse_message(garbage)


def test_a_message_without_message_id_gets_a_stable_one():
    """The same bytes twice give the same key, so a redelivery is still a duplicate."""
    bare = raw("From: a@x.example\nSubject: no id", "x")
    assert parse_message(bare).message_id == parse_message(bare).message_id


@pytest.mark.parametrize(("headers", "reason"), [
    ({"Auto-Submitted": "auto-replied"}, "Auto-Submitted: auto-replied"),
    ({"Precedence": "bulk"}, "Precedence: bulk"),
    ({"Precedence": "junk"}, "Precedence: junk"),
    ({"Precedence": "list"}, "Precedence: list"),
    ({"X-Auto-Response-Suppress": "All"}, "X-Auto-Response-Suppress"),
    ({"X-Loop": "support@example.test"}, "X-Loop"),
    ({}, None),
    ({"Auto-Submitted": "no"}, None),
])
def test_automatic_mail_is_recognised(headers, reason):
    """Each marker of machine-sent mail gives a reason; a person's mail gives none."""
    mail = parse_message(plain(headers=headers))
    assert automatic_reason(mail.headers, mail.sender.address, {"example.test"}) == reason


def test_mail_from_our_own_domain_is_automatic():
    """Our own domain's mail coming back is never answered."""
    mail = parse_message(plain(sender="noreply@example.test"))
    assert automatic_reason(mail.headers, mail.sender.address, {"example.test"}) == "our own mail"


def test_sanitise_keeps_ordinary_formatting():
    """Links, lists and tables survive; links get rel=noopener."""
    html, dropped = sanitise('<ul><li><a href="https://example.org/x">x</a></li></ul><table><tr><td>1</td></tr></table>')
    assert dropped == 0
    assert 'href="https://example.org/x"' in html and "noopener" in html and "<td>1</td>" in html


CORPUS = sorted((Path(__file__).parent / "corpus").glob("msg_*.txt"))


@pytest.mark.parametrize("path", CORPUS, ids=[path.name for path in CORPUS])
def test_real_world_messages_parse_with_their_sender_and_subject(path):
    """Every message of the corpus reads without error, with the sender and subject its headers give."""
    data = path.read_bytes()
    reference = message_from_bytes(data, policy=compat32)
    try:
        mail = parse_message(data)
    except ValidationError as refused:  # only a message with no headers at all may be refused
        assert not reference.keys(), refused
        return
    senders = [address for _, address in getaddresses(reference.get_all("From", [])) if "@" in address]
    if senders:
        assert mail.sender.address.lower() == senders[0].lower()
    if reference["Subject"] is not None:
        expected = " ".join(str(make_header(decode_header(str(reference["Subject"])))).split())
        assert " ".join(mail.subject.split()) == expected[:500]
