"""Mail a machine sent: auto-replies, lists and bounces, which are stored but never answered.

RFC 3834 marks automatic mail with `Auto-Submitted`; older responders use
`Precedence: bulk|list|junk`, Microsoft's `X-Auto-Response-Suppress`, and
loops carry `X-Loop`. A bounce is a delivery status notification (RFC 3464,
`multipart/report; report-type=delivery-status`) naming the failed recipients.
"""

import re
from email.message import EmailMessage

from workspace.channels.email.content import MAX_DEPTH

AUTOMATIC_PRECEDENCE = frozenset({"bulk", "list", "junk", "auto_reply"})
# Our own mail says "Auto-Submitted: auto-replied" when a machine sent it, and X-Loop with our address.
LOOP_HEADER = "X-Loop"
_ADDRESS = re.compile(r"<?([^<>;\s]+@[^<>;\s]+)>?")


def automatic_reason(headers: dict[str, str], sender: str | None, own_domains: set[str]) -> str | None:
    """Why the message must not be answered automatically, or None for mail a person wrote.

    Args:
        headers: the message's kept headers (parsing.KEPT_HEADERS).
        sender: the From address.
        own_domains: the domains our own mail is sent from (its Message-ID and reply addresses).

    Returns:
        A short reason ("Auto-Submitted: auto-replied", "our own mail", …) or None.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    submitted = lowered.get("auto-submitted", "").split(";")[0].strip().lower()
    if submitted and submitted != "no":
        return f"Auto-Submitted: {submitted}"
    precedence = lowered.get("precedence", "").strip().lower()
    if precedence in AUTOMATIC_PRECEDENCE:
        return f"Precedence: {precedence}"
    if lowered.get("x-auto-response-suppress"):
        return "X-Auto-Response-Suppress"
    if lowered.get("x-autoreply") or lowered.get("x-autorespond"):
        return "X-Autoreply"
    if lowered.get("x-loop"):
        return "X-Loop"
    if lowered.get("list-id") or lowered.get("list-unsubscribe"):
        return "mailing list"
    if lowered.get("return-path", "").strip() == "<>":
        return "null sender"
    if sender and sender.rpartition("@")[2].lower() in own_domains:
        return "our own mail"
    return None


def bounced_recipients(message: EmailMessage) -> list[str]:
    """The recipients a delivery status notification says failed for good (Action: failed); [] otherwise."""
    if message.get_content_type() != "multipart/report":
        return []
    if (message.get_param("report-type") or "").lower() != "delivery-status":
        return []
    failed = []
    for status in _status_parts(message):
        for block in status.get_payload() if isinstance(status.get_payload(), list) else []:
            action = str(block.get("Action", "")).strip().lower()
            recipient = str(block.get("Final-Recipient", "") or block.get("Original-Recipient", ""))
            address = _ADDRESS.search(recipient.partition(";")[2] or recipient)
            if action == "failed" and address:
                failed.append(address.group(1).lower())
    return list(dict.fromkeys(failed))[:20]


def _status_parts(message: EmailMessage) -> list[EmailMessage]:
    found, stack = [], [(message, 0)]
    while stack:
        part, depth = stack.pop()
        if part.get_content_type() == "message/delivery-status":
            found.append(part)
        elif part.is_multipart() and depth < MAX_DEPTH and part.get_content_type() != "message/delivery-status":
            payload = part.get_payload()
            if isinstance(payload, list):
                stack.extend((child, depth + 1) for child in payload)
    return found


def original_message_ids(message: EmailMessage) -> list[str]:
    """The Message-IDs of the mail a bounce returns (its text/rfc822-headers or message/rfc822 part)."""
    found = []
    for part in message.iter_parts() if message.is_multipart() else ():
        kind = part.get_content_type()
        if kind == "text/rfc822-headers":
            text = (part.get_payload(decode=True) or b"").decode("utf-8", errors="replace")
        elif kind == "message/rfc822" and isinstance(part.get_payload(), list) and part.get_payload():
            text = str(part.get_payload()[0].get("Message-ID", ""))
        else:
            continue
        match = re.search(r"^Message-ID:\s*<([^<>\s]{1,250})>", text, re.IGNORECASE | re.MULTILINE)
        if match:
            found.append(match.group(1))
    return found
