"""The registry of channel kinds: one module per kind, holding its inbound adapter and its outbound sender.

A kind's module exposes:
- `authenticate(channel, headers, body)`: raise Unauthorized unless the request
  is signed with the sender's own scheme;
- `parse(payload, *, max_batch, headers, channel)`: the posts the delivery
  carries, all or nothing (ValidationError names the field), or raise
  post.Ignored for an event that carries none;
- optionally `challenge(channel, args)`: the answer to a sender's GET check of
  the webhook URL (X's CRC);
- `send(message, *, key, retrying)`: post one reply to the platform (see channels.outbound).

`channel` is the cached row of views.find_channel: id, slug, kind, secret,
enabled and settings.
"""

from collections.abc import Callable
from types import ModuleType

from workspace.channels import discourse, khoros, native, x

# kind -> its module; adding a kind is one module here and its tests.
CHANNELS: dict[str, ModuleType] = {"native": native, "discourse": discourse, "x": x, "khoros": khoros}
# kind -> send(message, *, key, retrying) -> the reply's URL, or None.
SENDERS: dict[str, Callable[..., str | None]] = {kind: module.send for kind, module in CHANNELS.items()}


def adapter_for(kind: str) -> ModuleType:
    """Return the module that takes a channel kind's webhooks."""
    return CHANNELS[kind]
