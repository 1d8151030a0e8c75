"""The registry of channel kinds: one module per kind, holding its inbound adapter and its outbound sender.

A kind's module exposes:
- `authenticate(channel, headers, body)`: raise Unauthorized unless the request
  is signed with the sender's own scheme;
- `parse(payload, *, max_batch, headers, channel)`: the posts the delivery
  carries, all or nothing (ValidationError names the field), or raise
  post.Ignored for an event that carries none (email instead has `post_for(channel, mail, envelope)`:
  its raw messages, from SMTP, IMAP or its webhook, are stored by services.intake.mail);
- optionally `challenge(channel, args)`: the answer to a sender's GET check of
  the webhook URL (X's CRC);
- `send(message, *, key, retrying)`: post one reply to the platform (see channels.outbound);
- `SETTINGS`: what an admin sets on such a channel, setting -> check (see channels.settings), beside the
  COMMON_SETTINGS every kind takes;
- optionally `REPLY_LIMIT` (characters a reply may have; else the workspace's maximum) and
  `LINK_CHARS` (what every link counts as, when the platform shortens links).

`channel` is the cached row of web/webhooks/channels.find_channel: id, slug, kind, secret,
enabled and settings.
"""

import re
from collections.abc import Callable
from types import ModuleType

from workspace.channels import discourse, email, khoros, native, settings, x

# kind -> its module; adding a kind is one module here and its tests.
CHANNELS: dict[str, ModuleType] = {"native": native, "discourse": discourse, "x": x, "khoros": khoros,
                                   "email": email}
# kind -> send(message, *, key, retrying) -> the reply's URL, or None.
SENDERS: dict[str, Callable[..., str | None]] = {kind: module.send for kind, module in CHANNELS.items()}


KINDS = tuple(CHANNELS)
# Settings every kind takes, beside its own SETTINGS: rate_limit is signed deliveries a second (web/webhooks/limits).
COMMON_SETTINGS = {"rate_limit": settings.rate}
# Characters a reply may have where the kind sets no limit of its own: the workspace's maximum.
DEFAULT_REPLY_LIMIT = 20_000
_LINK = re.compile(r"https?://\S+", re.IGNORECASE)


def adapter_for(kind: str) -> ModuleType:
    """Return the module that takes a channel kind's webhooks."""
    return CHANNELS[kind]


def setting_names(kind: str) -> list[str]:
    """The settings a channel of this kind takes."""
    return [*CHANNELS[kind].SETTINGS, *COMMON_SETTINGS]


def clean_settings(kind: str, changes, current: dict | None = None) -> dict:
    """Return a channel's settings updated with `changes`, each checked by its kind (see settings.clean)."""
    return settings.clean(kind, {**CHANNELS[kind].SETTINGS, **COMMON_SETTINGS}, changes, current)


def reply_limit(kind: str) -> int:
    """Return how many characters a reply may have on a channel of this kind."""
    return getattr(CHANNELS.get(kind), "REPLY_LIMIT", DEFAULT_REPLY_LIMIT)


def reply_length(text: str, kind: str) -> int:
    """Count a reply's characters as the channel does (on X every link counts 23)."""
    link_chars = getattr(CHANNELS.get(kind), "LINK_CHARS", None)
    return len(_LINK.sub("x" * link_chars, text)) if link_chars else len(text)


def reply_fits(text: str, kind: str) -> str | None:
    """Return None when the reply fits the channel, else a sentence saying by how much it does not."""
    length, limit = reply_length(text, kind), reply_limit(kind)
    if length <= limit:
        return None
    return f"the reply is {length} characters; a {kind} reply must fit {limit} ({length - limit} too many)"
