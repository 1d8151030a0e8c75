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
    # A forum's standing for the user (Discourse trust level 0-4).
    trust_level: int | None = None
    # Their profile's web address (homepage or page elsewhere) and picture: evidence for linking people.
    profile_url: str | None = None
    avatar_url: str | None = None


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
    # Visible only to its participants on the platform (a Discourse personal message).
    private: bool = False
    # Sent by a machine (an out-of-office, an auto-responder, a bounce): stored in the conversation it joins, but
    # it never re-opens or re-routes that conversation, so nobody is asked to answer it.
    automatic: bool = False
    # The sender's payload for this post, unknown fields included.
    raw: dict = field(default_factory=dict)


class Ignored(Exception):
    """A genuine delivery that carries no post to store (a ping, a like, the brand's own post).

    Not an error: the sender is answered 200 with the reason, and nothing changes.
    """


@dataclass(frozen=True, slots=True)
class SourceChange:
    """A post already delivered, edited or deleted where it was written; it carries no new post."""

    external_id: str
    # The post's new text and subject after an edit (None: the subject did not come with it).
    text: str = ""
    subject: str | None = None
    deleted: bool = False
    # Brought back where it was written (Discourse post_recovered): shown again, with the text it carries.
    recovered: bool = False
