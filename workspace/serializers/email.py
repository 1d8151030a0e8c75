"""The email part of a message: addresses, quoted history, sanitised HTML and attachments (received mail), or
what an outbound one was sent as (kind, To, Cc, Bcc, signature, files)."""

import re

from workspace.models import EmailAttachment, Message

ATTACHMENT_URL = "/api/v1/attachments/{id}"
_CID_SOURCE = re.compile(r'src="cid:([^"]{1,255})"')


def attachment_url(attachment: EmailAttachment) -> str:
    """Where the console fetches an attachment's bytes."""
    return ATTACHMENT_URL.format(id=attachment.id)


def serialize_email(message: Message) -> dict | None:
    """The email details of a message (None for messages of other channels); HTML already sanitised on receipt."""
    email = (message.raw or {}).get("email")
    if not isinstance(email, dict):
        return None
    # The rows were stored in the order the message lists them, so its metadata says which kept their bytes
    # (the bytes themselves are never read to list them).
    listed = email.get("attachments") or []
    attachments = [(row, bool(meta.get("stored"))) for row, meta in zip(message.attachments, listed, strict=False)]
    by_cid = {row.content_id: row for row, stored in attachments if row.content_id and stored}

    def image(match: re.Match) -> str:
        found = by_cid.get(match.group(1))
        return f'src="{attachment_url(found)}"' if found else 'src=""'

    return {
        "kind": email.get("kind") or "received",
        "from": email.get("from"), "to": email.get("to") or [], "cc": email.get("cc") or [],
        "bcc": email.get("bcc") or [], "copies": email.get("copies") or [],
        "forwarded": email.get("forwarded") or [],
        "reply_to": email.get("reply_to") or [], "recipients_dropped": email.get("recipients_dropped") or 0,
        "quoted": email.get("quoted") or "", "signature": email.get("signature") or "",
        "html": _CID_SOURCE.sub(image, email.get("html") or ""), "remote_images": email.get("remote_images") or 0,
        "automatic": email.get("automatic"), "bounced": email.get("bounced") or [],
        "attachments": [{"id": row.id, "filename": row.filename, "content_type": row.content_type,
                         "size": row.size, "inline": row.inline, "stored": stored, "url": attachment_url(row)}
                        for row, stored in attachments],
    }
