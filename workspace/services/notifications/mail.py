"""Notifications by email: the push an agent's devices get, also mailed to them when they opted in.

Runs in the worker only, from the same job as the pushes (webpush.push_pending), so a mail obeys the same
kinds, priorities, muted queues, quiet hours, collapsing and per-minute cap. The mail carries what the push
carries (a title, the customer's words only for an agent who asked for them, the conversation's link) and
says it was sent by a machine (RFC 3834 `Auto-Submitted: auto-generated`), so no out-of-office answers it.
Titles hold agents', queues' and incidents' names: each header is put on one line, and the standard
library's `EmailMessage` refuses any header with a line break left in it, so no name can add a header.
"""

import logging
import smtplib
import uuid
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from flask import current_app

from workspace.channels.email.parsing import one_line
from workspace.models import Agent, NotificationSettings, utcnow

log = logging.getLogger(__name__)
AUTO_GENERATED = "auto-generated"
MAX_SUBJECT = 200


def recipient(row: NotificationSettings, agent: Agent) -> str | None:
    """Where the agent's notification mail goes: their chosen address, else their own; None when they did not
    opt in."""
    if not row.email_enabled:
        return None
    return row.email_address or agent.email or None


def compose(message: dict, to: str) -> EmailMessage:
    """The mail for one push payload (see webpush._message): subject, plain text and the console's link."""
    link = f"{current_app.config['PUBLIC_URL']}{message['url']}"
    sender = current_app.config["NOTIFY_MAIL_FROM"]
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = Address(addr_spec=to)
    mail["Subject"] = f"[Switchboard] {one_line(message['title'])}"[:MAX_SUBJECT]
    mail["Date"] = format_datetime(utcnow())
    mail["Message-ID"] = f"<notification.{uuid.uuid4().hex}@{parseaddr(sender)[1].rpartition('@')[2] or 'localhost'}>"
    mail["Auto-Submitted"] = AUTO_GENERATED
    mail["X-Auto-Response-Suppress"] = "All"
    mail["Precedence"] = "bulk"
    text = [message["title"], ""]
    if message["body"]:
        text += [message["body"], ""]
    text += [f"Open in Switchboard: {link}", "",
             "You get this mail because you asked for notifications by email; change that in Switchboard under "
             f"Notifications: {current_app.config['PUBLIC_URL']}/account/notifications"]
    mail.set_content("\n".join(text))
    return mail


def send(message: dict, to: str) -> bool:
    """Mail one push payload to one address over the configured relay.

    Returns:
        Whether the relay took it (no relay configured, or a failure, is logged; the pushes stand).
    """
    if not current_app.config["NOTIFY_SMTP_HOST"]:
        log.warning("notification mail not sent: SWITCHBOARD_NOTIFY_SMTP_HOST is not set")
        return False
    try:
        relay(compose(message, to), [to])
    except (smtplib.SMTPException, OSError, ValueError) as error:
        log.warning("notification mail to agent failed: %s", error)
        return False
    return True


def relay(mail: EmailMessage, to: list[str]) -> None:
    """Hand one mail to the configured relay (SWITCHBOARD_NOTIFY_SMTP_*) for these envelope recipients.

    Raises:
        smtplib.SMTPException, OSError or ValueError: the relay refused it or could not be reached.
    """
    config = current_app.config
    with smtplib.SMTP(config["NOTIFY_SMTP_HOST"], config["NOTIFY_SMTP_PORT"],
                      timeout=config["PUSH_TIMEOUT_SECONDS"]) as server:
        if config["NOTIFY_SMTP_STARTTLS"]:
            server.starttls()
        if config["NOTIFY_SMTP_USERNAME"]:
            server.login(config["NOTIFY_SMTP_USERNAME"], config["NOTIFY_SMTP_PASSWORD"])
        server.send_message(mail, from_addr=parseaddr(config["NOTIFY_MAIL_FROM"])[1], to_addrs=to)
