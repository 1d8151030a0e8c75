"""Email: mail received over SMTP (the listener), IMAP or an inbound-parse webhook, and replies sent over SMTP.

Whichever way a message arrives, it is read here into the same InboundPost
(parsing, content), threaded by Message-ID, reply token and a participant's
subject tag (threads), and stored through the same intake as every other
channel; its Message-ID is its external id, so a message delivered twice is
stored once. Replies go out through the channel's SMTP relay (outgoing).

The webhook takes one raw message (`Content-Type: message/rfc822`) signed as
native deliveries are (`X-Switchboard-Signature` over the raw body).
"""

from datetime import UTC

from workspace.channels import settings
from workspace.channels.email import drafts, outgoing
from workspace.channels.email.addresses import channel_address, channel_domain, recipient_mailboxes
from workspace.channels.email.automatic import automatic_reason
from workspace.channels.email.parsing import Mail
from workspace.channels.email.threads import thread_key_for
from workspace.channels.fields import EARLIEST_YEAR, LATEST_YEAR
from workspace.channels.native import authenticate
from workspace.channels.post import InboundAuthor, InboundPost
from workspace.errors import ValidationError

__all__ = ["MEDIA_TYPE", "SETTINGS", "authenticate", "post_for", "send"]

# What an admin sets on an email channel: its mailbox and the relay replies go out through.
SETTINGS = {
    "address": settings.pattern(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,189}\.[A-Za-z]{2,24}",
                                "the channel's email address, e.g. support@example.com"),
    "smtp_host": settings.pattern(r"[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]", "a host name or address"),
    "smtp_port": settings.port,
    "smtp_username": settings.pattern(r"[\x21-\x7e]{1,200}", "1 to 200 printable characters"),
    "smtp_password": settings.token,
    "smtp_starttls": settings.boolean,
    # A mailbox the brand already has, polled by `flask imap` (channels.email.mailbox).
    "imap_host": settings.pattern(r"[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]", "a host name or address"),
    "imap_port": settings.port,
    "imap_username": settings.pattern(r"[\x21-\x7e]{1,200}", "1 to 200 printable characters"),
    "imap_password": settings.token,
    "imap_tls": settings.boolean,
    "imap_folder": settings.pattern(r"[^\x00-\x1f\x7f]{1,200}", "a folder name, e.g. INBOX"),
}
# The webhook's body is one raw RFC 5322 message.
MEDIA_TYPE = "message/rfc822"
NO_TEXT = "(no text)"


def post_for(channel, mail: Mail, envelope: list[str]) -> InboundPost:
    """The post a parsed message is on this channel (ValidationError when it names no sender)."""
    if mail.sender is None:
        raise ValidationError("the message has no From address", code="invalid_message")
    recipients = list(dict.fromkeys([*(a.lower() for a in envelope), *(a.address.lower() for a in mail.to + mail.cc)]))
    sender = mail.sender.address.lower()
    reason = automatic_reason(mail.headers, sender, {channel_domain(channel)})
    if sender == channel_address(channel):
        reason = "our own mail"
    # Whom the customer copied besides us: a reply copies them too unless the agent changes it.
    ours = channel_address(channel)
    copies = [a.address for a in mail.to + mail.cc
              if a.address.lower() != sender and recipient_mailboxes([a.address]) != [ours]
              and drafts.is_address(a.address)]
    date = mail.date.astimezone(UTC) if mail.date and EARLIEST_YEAR <= mail.date.year <= LATEST_YEAR else None
    return InboundPost(
        external_id=mail.message_id,
        author=InboundAuthor(external_id=sender, handle=sender, name=mail.sender.name, email=sender),
        text=mail.text or mail.subject or NO_TEXT,
        subject=mail.subject,
        thread_id=thread_key_for(channel, mail, recipients),
        in_reply_to=mail.in_reply_to,
        created_at=date,
        automatic=reason is not None,
        raw={"email": {
            "message_id": mail.message_id, "from": mail.sender.as_dict(),
            "to": [a.as_dict() for a in mail.to], "cc": [a.as_dict() for a in mail.cc],
            "reply_to": [a.as_dict() for a in mail.reply_to], "recipients_dropped": mail.recipients_dropped,
            "copies": copies[:drafts.MAX_ADDRESSES],
            "mailboxes": recipient_mailboxes(recipients)[:100],
            "in_reply_to": mail.in_reply_to, "references": mail.references,
            "quoted": mail.quoted, "signature": mail.signature, "html": mail.html,
            "remote_images": mail.remote_images,
            "attachments": [attachment.as_dict() for attachment in mail.attachments],
            "automatic": reason, "bounced": mail.bounced, "headers": mail.headers, "defects": mail.defects,
        }},
    )


send = outgoing.send
