"""The normalized inbound post every channel adapter produces."""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class InboundAuthor:
    """The sender's view of the post's author."""

    external_id: str
    handle: str = ""
    name: str = ""
    followers: int | None = None
    email: str | None = None
    verified: bool | None = None


@dataclass(frozen=True, slots=True)
class InboundPost:
    """One post as an adapter hands it to the ingest service."""

    external_id: str
    author: InboundAuthor
    text: str
    subject: str = ""
    thread_id: str | None = None
    in_reply_to: str | None = None
    url: str | None = None
    created_at: datetime | None = None
    # The sender's payload for this post, unknown fields included.
    raw: dict = field(default_factory=dict)
