"""The registry of channel adapters, one module per sender format."""

from types import ModuleType

from . import native

# kind -> module exposing authenticate(channel, headers, body) and parse(payload, max_batch=)
ADAPTERS: dict[str, ModuleType] = {"native": native}


def adapter_for(kind: str) -> ModuleType:
    """Return the adapter module for a channel kind."""
    return ADAPTERS[kind]
