"""The routing input: what routing sees of one conversation."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Post:
    """What routing sees of one conversation: plain data, no ORM."""

    text: str  # latest inbound text (or the thread's texts joined, the app decides)
    subject: str = ""
    channel: str = ""  # channel slug, e.g. "forum"
    channel_kind: str = "native"  # adapter kind: native, discourse, x, khoros
    author_handle: str = ""  # without '@'
    author_name: str = ""
    author_followers: int = 0
    author_verified: bool = False
    author_tags: frozenset[str] = frozenset()  # e.g. {"vip"}
    recipients: frozenset[str] = frozenset()  # email: the mailboxes it was sent to, lower-case, without +tags
    # The customer's custom fields (plan, CRM id, country, ...) as (name, value as text) pairs.
    author_fields: tuple[tuple[str, str], ...] = ()
    waiting_seconds: float = 0.0  # how long the customer has waited for a reply so far
    sla_seconds: float | None = None  # the SLA target it is measured against, if known
    language: str = ""  # ISO 639-1 code when already detected (routing.language); "" lets the router detect it
