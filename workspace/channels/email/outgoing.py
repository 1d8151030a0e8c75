"""Replies as mail: composed with threading headers and sent over SMTP by the delivery job.

Every header value that came from a customer (their name, the subject) is put
on one line first, and the message is built with the standard library's
`EmailMessage`, which refuses any header with a line break left in it; so no
customer can add a header (Bcc: …) to our mail. Our Message-ID depends only on
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
    """Build the mail for one outbound reply (headers, text and HTML alternatives).

    Args:
        message: the outbound reply; its conversation's customer is the recipient.
        key: the reply's delivery key (part of its Message-ID).

    Returns:
        The message, ready for smtplib.
    """
    conversation = message.conversation
    channel = conversation.channel
    customer = conversation.author
    parent = parent_post(message)
    mail = EmailMessage()
    mail["From"] = HeaderAddress(one_line(channel.name)[:100], addr_spec=channel_address(channel))
    mail["To"] = HeaderAddress(one_line(customer.name or "")[:100], addr_spec=customer.external_id)
    mail["Reply-To"] = reply_address(channel, conversation.id)
    mail["Subject"] = reply_subject(conversation.subject, conversation.id)
    mail["Date"] = format_datetime(message.created_at or utcnow())
    mail["Message-ID"] = f"<{outbound_message_id(channel, message.id, key)}>"
    if parent is not None and parent.external_id:
        references = list(((parent.raw or {}).get("email") or {}).get("references") or [])
        references = [*references, parent.external_id][-MAX_REFERENCES:]
        mail["In-Reply-To"] = f"<{parent.external_id}>"
        mail["References"] = " ".join(f"<{reference}>" for reference in references)
    mail["X-Loop"] = channel_address(channel)
    if message.agent_id is None:  # written by an automation, not a person (RFC 3834)
        mail["Auto-Submitted"] = AUTO_REPLIED
        mail["X-Auto-Response-Suppress"] = "All"
    mail.set_content(message.text)
    paragraphs = "".join(f"<p>{html.escape(block).replace(chr(10), '<br>')}</p>"
                         for block in message.text.split("\n\n") if block.strip())
    mail.add_alternative(f"<!doctype html><html><body>{paragraphs}</body></html>", subtype="html")
    return mail


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
    recipient = conversation.author.external_id
    if message.agent_id is None and _answers_automatic_mail(message):
        raise NotConfigured("not sent: the customer's latest mail was sent by a machine (never answered automatically)")
    suppressed = db.session.scalars(sa.select(EmailSuppression.reason).where(
        EmailSuppression.channel_id == channel.id, EmailSuppression.address == recipient.lower())).first()
    if suppressed:
        raise Refused(f"not sent: mail to {recipient} bounced ({suppressed})")
    mail = compose(message, key)
    message.external_id = mail["Message-ID"].strip("<>")
    try:
        with smtplib.SMTP(settings["smtp_host"], int(settings.get("smtp_port") or 25),
                          timeout=current_app.config["DELIVERY_TIMEOUT_SECONDS"]) as relay:
            if settings.get("smtp_starttls"):
                relay.starttls()
            if settings.get("smtp_username"):
                relay.login(settings["smtp_username"], settings.get("smtp_password") or "")
            relay.send_message(mail, from_addr=channel_address(channel), to_addrs=[recipient])
    except smtplib.SMTPRecipientsRefused as error:
        raise Refused(f"the relay refused {recipient}: {error.recipients}") from error
    except smtplib.SMTPResponseException as error:
        if 500 <= error.smtp_code < 600:
            raise Refused(f"the relay answered {error.smtp_code}: {error.smtp_error!r}") from error
        raise
    return None


def _answers_automatic_mail(message: Message) -> bool:
    parent = parent_post(message)
    return bool(parent is not None and ((parent.raw or {}).get("email") or {}).get("automatic"))
