"""Replies, forwards and new mail: composed with threading headers and sent over SMTP by the delivery job.

Every header value that came from a customer (their name, the subject) is put
on one line first, and the message is built with the standard library's
`EmailMessage`, which refuses any header with a line break left in it; so no
customer can add a header (Bcc: …) to our mail. Bcc addresses go in the SMTP
envelope only. Our Message-ID depends only on
the reply and its delivery key, so a retried send carries the same one.
"""

import html
import smtplib
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.utils import format_datetime

import sqlalchemy as sa
from flask import current_app

from workspace.channels.email.addresses import (
    channel_address,
    outbound_message_id,
    reply_address,
    subject_tag,
)
from workspace.channels.email.parsing import MAX_REFERENCES, one_line
from workspace.channels.outbound import NotConfigured, Refused, parent_post
from workspace.extensions import db
from workspace.models import EmailSuppression, Message, utcnow

AUTO_REPLIED = "auto-replied"
_REPLY_PREFIXES = ("re:", "aw:", "sv:", "antw:", "r:")


def compose(message: Message, key: str) -> EmailMessage:
    """Build the mail for one outbound message: a reply, a forward or a new mail (headers, text, HTML, files).

    Args:
        message: the outbound message; its `raw["email"]` (services.conversations.email) says its kind, Cc,
            signature and forward, and its attachments go with it. Without one it is a reply to the customer.
        key: the message's delivery key (part of its Message-ID).

    Returns:
        The message, ready for smtplib; Bcc is never among its headers (see recipients).
    """
    conversation = message.conversation
    channel = conversation.channel
    details = _details(message)
    kind = details.get("kind") or "reply"
    mail = EmailMessage()
    mail["From"] = HeaderAddress(one_line(channel.name)[:100], addr_spec=channel_address(channel))
    if kind == "forward":
        mail["To"] = [HeaderAddress(addr_spec=a) for a in _listed(details, "to")]
    else:
        customer = conversation.author
        mail["To"] = HeaderAddress(one_line(customer.name or "")[:100], addr_spec=customer.external_id)
    if _listed(details, "cc"):
        mail["Cc"] = [HeaderAddress(addr_spec=a) for a in _listed(details, "cc")]
    mail["Reply-To"] = reply_address(channel, conversation.id)
    mail["Subject"] = _subject(kind, conversation)
    mail["Date"] = format_datetime(message.created_at or utcnow())
    mail["Message-ID"] = f"<{outbound_message_id(channel, message.id, key)}>"
    parent = parent_post(message) if kind == "reply" else None
    if parent is not None and parent.external_id:
        references = list(((parent.raw or {}).get("email") or {}).get("references") or [])
        references = [*references, parent.external_id][-MAX_REFERENCES:]
        mail["In-Reply-To"] = f"<{parent.external_id}>"
        mail["References"] = " ".join(f"<{reference}>" for reference in references)
    mail["X-Loop"] = channel_address(channel)
    if message.agent_id is None:  # written by an automation, not a person (RFC 3834)
        mail["Auto-Submitted"] = AUTO_REPLIED
        mail["X-Auto-Response-Suppress"] = "All"
    text, forwarded = message.text, []
    if kind == "forward":
        forwarded = _forwarded(details)
        text = f"{message.text}\n\n{_transcript(forwarded)}"
    signature = str(details.get("signature") or "")
    mail.set_content(f"{text}\n\n-- \n{signature}\n" if signature else text)
    mail.add_alternative(_html(text, signature), subtype="html")
    for attachment in [*message.attachments, *(a for m in forwarded for a in m.attachments if not a.inline)]:
        if attachment.data is not None:
            maintype, _, subtype = attachment.content_type.partition("/")
            # Only an agent's file is typed text/plain, and only when it is UTF-8 (channels.email.drafts.file_type).
            charset = {"charset": "utf-8"} if attachment.content_type == "text/plain" else {}
            mail.add_attachment(attachment.data, maintype=maintype, subtype=subtype,
                                filename=one_line(attachment.filename)[:255] or "attachment", params=charset)
    return mail


def recipients(message: Message) -> list[str]:
    """Everyone the mail goes to (To, Cc and Bcc): the SMTP envelope, the only place Bcc appears."""
    details = _details(message)
    to = _listed(details, "to") if details.get("kind") == "forward" else [message.conversation.author.external_id]
    return list(dict.fromkeys([*to, *_listed(details, "cc"), *_listed(details, "bcc")]))


def _details(message: Message) -> dict:
    return (message.raw or {}).get("email") or {}


def _listed(details: dict, name: str) -> list[str]:
    """The addresses of one field of a draft (checked when the agent gave them: channels.email.drafts)."""
    return [entry["address"] for entry in details.get(name) or [] if entry.get("address")]


def _subject(kind: str, conversation) -> str:
    if kind == "reply":
        return reply_subject(conversation.subject, conversation.id)
    subject = one_line(conversation.subject or "")[:400] or "(no subject)"
    if kind == "forward" and not subject.lower().startswith(("fwd:", "fw:")):
        subject = f"Fwd: {subject}"
    tag = subject_tag(conversation.id)
    return subject if tag in subject else f"{subject} {tag}"


def _html(text: str, signature: str) -> str:
    """The HTML alternative: the text's paragraphs escaped, then the signature."""
    paragraphs = "".join(f"<p>{html.escape(block).replace(chr(10), '<br>')}</p>"
                         for block in text.split("\n\n") if block.strip())
    if signature:
        paragraphs += f'<p class="signature">-- <br>{html.escape(signature).replace(chr(10), "<br>")}</p>'
    return f"<!doctype html><html><body>{paragraphs}</body></html>"


def _forwarded(details: dict) -> list[Message]:
    ids = [i for i in details.get("forwarded") or [] if isinstance(i, int)]
    return list(db.session.scalars(sa.select(Message).where(Message.id.in_(ids)).order_by(Message.id))) if ids else []


def _transcript(messages: list[Message]) -> str:
    """The forwarded messages as text, oldest first, each under who wrote it and when."""
    blocks = ["---------- Forwarded messages ----------"]
    for forwarded in messages:
        if forwarded.direction == "inbound" and forwarded.author is not None:
            who = forwarded.author.name or forwarded.author.external_id
        else:
            who = forwarded.agent.name if forwarded.agent is not None else "Support"
        when = format_datetime(forwarded.created_at) if forwarded.created_at else ""
        blocks.append(f"From: {one_line(who)}\nDate: {when}\nSubject: {one_line(forwarded.subject or '')}\n\n"
                      f"{forwarded.text}")
    return "\n\n".join(blocks)


def reply_subject(subject: str, conversation_id: int) -> str:
    """The subject of our reply: "Re: <subject> [#id]", on one line."""
    subject = one_line(subject or "")[:400]
    tag = subject_tag(conversation_id)
    if not subject.lower().startswith(_REPLY_PREFIXES):
        subject = f"Re: {subject}" if subject else "Re: your message"
    return subject if tag in subject else f"{subject} {tag}"


def send(message: Message, *, key: str, retrying: bool) -> str | None:
    """Send one reply over the channel's SMTP relay (an RQ job's work; errors make RQ retry).

    Args:
        message: the outbound reply.
        key: its delivery key; the Message-ID is built from it, so a resend is the same mail.
        retrying: unused: a resend carries the same Message-ID, which is how mail dedupes.

    Returns:
        None: mail has no URL.
    """
    conversation = message.conversation
    channel = conversation.channel
    settings = channel.settings or {}
    if not settings.get("smtp_host") or not channel_address(channel):
        raise NotConfigured(f"no outbound mail: channel {channel.slug} has no smtp_host or address")
    if message.agent_id is None and _answers_automatic_mail(message):
        raise NotConfigured("not sent: the customer's latest mail was sent by a machine (never answered automatically)")
    everyone = recipients(message)
    suppressed = dict(db.session.execute(sa.select(EmailSuppression.address, EmailSuppression.reason).where(
        EmailSuppression.channel_id == channel.id,
        EmailSuppression.address.in_([address.lower() for address in everyone]))).all())
    recipient = everyone[0]
    if recipient.lower() in suppressed:
        raise Refused(f"not sent: mail to {recipient} bounced ({suppressed[recipient.lower()]})")
    # A copy to an address that bounced is left out; the mail still goes to the rest.
    envelope = [address for address in everyone if address.lower() not in suppressed]
    mail = compose(message, key)
    message.external_id = mail["Message-ID"].strip("<>")
    try:
        with smtplib.SMTP(settings["smtp_host"], int(settings.get("smtp_port") or 25),
                          timeout=current_app.config["DELIVERY_TIMEOUT_SECONDS"]) as relay:
            if settings.get("smtp_starttls"):
                relay.starttls()
            if settings.get("smtp_username"):
                relay.login(settings["smtp_username"], settings.get("smtp_password") or "")
            relay.send_message(mail, from_addr=channel_address(channel), to_addrs=envelope)
    except smtplib.SMTPRecipientsRefused as error:
        raise Refused(f"the relay refused {', '.join(envelope)}: {error.recipients}") from error
    except smtplib.SMTPResponseException as error:
        if 500 <= error.smtp_code < 600:
            raise Refused(f"the relay answered {error.smtp_code}: {error.smtp_error!r}") from error
        raise
    return None


def _answers_automatic_mail(message: Message) -> bool:
    parent = parent_post(message)
    return bool(parent is not None and ((parent.raw or {}).get("email") or {}).get("automatic"))
