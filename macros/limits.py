"""What a reply may look like on each kind of channel: its length limit, counted the channel's way."""

import re

# Characters a reply may have, by channel kind. X (Twitter) allows 280 and
# counts every link as 23 (its t.co length); the other kinds take the
# workspace's own maximum.
REPLY_LIMITS = {"x": 280, "twitter": 280}
DEFAULT_REPLY_LIMIT = 20_000
# X shortens every link to this many characters, whatever its real length.
X_LINK_CHARS = 23
_LINK = re.compile(r"https?://\S+", re.IGNORECASE)


def reply_limit(channel_kind: str) -> int:
    """Return how many characters a reply may have on a channel of this kind."""
    return REPLY_LIMITS.get(channel_kind, DEFAULT_REPLY_LIMIT)


def reply_length(text: str, channel_kind: str) -> int:
    """Count a reply's characters as the channel does (links count 23 on X).

    Args:
        text: the reply.
        channel_kind: the channel's adapter kind, e.g. "x" or "native".

    Returns:
        Its length in the channel's characters.
    """
    if channel_kind in REPLY_LIMITS:
        return len(_LINK.sub("x" * X_LINK_CHARS, text))
    return len(text)


def reply_fits(text: str, channel_kind: str) -> str | None:
    """Return None when the reply fits the channel, else a sentence saying by how much it does not."""
    length, limit = reply_length(text, channel_kind), reply_limit(channel_kind)
    if length <= limit:
        return None
    return f"the reply is {length} characters; a {channel_kind} reply must fit {limit} ({length - limit} too many)"
