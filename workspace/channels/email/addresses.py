"""The email channel's own addresses: its mailbox, the reply+<token>@ address and our Message-IDs.

Every message we send carries `Reply-To: <local>+<conversation>.<mac>@<domain>`
and a Message-ID `<sb.<message id>.<key>@<domain>>`. The token is an HMAC
with the channel's secret, so an answer joins its conversation even when the
customer's client drops In-Reply-To, and nobody can write one that points
at a conversation they were never part of.
"""

import hashlib
import hmac
import re

TOKEN_CHARS = 16
_TOKEN = re.compile(r"^(?P<local>[^+@]+)\+(?P<conversation>[0-9]{1,18})\.(?P<mac>[0-9a-f]{16})@(?P<domain>.+)$")
_SUBJECT_TAG = re.compile(r"\[#([0-9]{1,18})\]")


def channel_address(channel) -> str:
    """The channel's mailbox (its `address` setting), lower-cased; "" when it has none."""
    return str((channel.settings or {}).get("address") or "").lower()


def channel_domain(channel) -> str:
    """The domain our mail for this channel is sent from."""
    return channel_address(channel).rpartition("@")[2] or "switchboard.invalid"


def _mac(secret: str, conversation_id: int) -> str:
    digest = hmac.new(secret.encode(), f"reply:{conversation_id}".encode(), hashlib.sha256).hexdigest()
    return digest[:TOKEN_CHARS]


def reply_address(channel, conversation_id: int) -> str:
    """The address a customer's answer to this conversation should go to."""
    local, _, domain = (channel_address(channel) or "support@switchboard.invalid").partition("@")
    return f"{local}+{conversation_id}.{_mac(channel.secret, conversation_id)}@{domain}"


def conversation_of_reply_address(channel, address: str) -> int | None:
    """The conversation a reply+<token>@ address names, when its token was signed by this channel."""
    match = _TOKEN.match(address.lower())
    if not match or match["domain"] != channel_domain(channel):
        return None
    conversation_id = int(match["conversation"])
    if not hmac.compare_digest(match["mac"], _mac(channel.secret, conversation_id)):
        return None
    return conversation_id


def recipient_mailboxes(addresses) -> list[str]:
    """The addresses with any +tag removed (support+123.abc@x -> support@x), for routing by mailbox."""
    plain = []
    for address in addresses:
        local, _, domain = address.lower().rpartition("@")
        plain.append(f"{local.partition('+')[0]}@{domain}")
    return list(dict.fromkeys(plain))


def outbound_message_id(channel, message_id: int, key: str) -> str:
    """The Message-ID (without brackets) of a reply we send: the same on every attempt of it."""
    return f"sb.{message_id}.{key[:16]}@{channel_domain(channel)}"


def subject_tag(conversation_id: int) -> str:
    """The tag our subjects carry: [#123]."""
    return f"[#{conversation_id}]"


def tagged_conversation(subject: str) -> int | None:
    """The conversation a subject's [#123] tag names, if any."""
    match = _SUBJECT_TAG.search(subject or "")
    return int(match.group(1)) if match else None
