"""The registry of channel adapters, one module per sender format.

An adapter module exposes:
- `authenticate(channel, headers, body)`: raise Unauthorized unless the request
  is signed with the sender's own scheme;
- `parse(payload, *, max_batch, headers, channel)`: the posts the delivery
  carries, all or nothing (ValidationError names the field), or raise
  post.Ignored for an event that carries none;
- optionally `challenge(channel, args)`: the answer to a sender's GET check of
  the webhook URL (X's CRC).

`channel` is the cached row of views.find_channel: id, slug, kind, secret,
enabled and settings.
"""

from types import ModuleType

from workspace.channels import discourse, khoros, native, x

# kind -> adapter module; adding a sender is one module here and its tests.
ADAPTERS: dict[str, ModuleType] = {"native": native, "discourse": discourse, "x": x, "khoros": khoros}


def adapter_for(kind: str) -> ModuleType:
    """Return the adapter module for a channel kind."""
    return ADAPTERS[kind]
