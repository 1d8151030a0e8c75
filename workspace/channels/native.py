"""The native JSON webhook format: one post object, or an array of them."""

from workspace.channels import callback, fields, settings
from workspace.channels.post import InboundAuthor, InboundPost
from workspace.channels.signature import require_signature, verify
from workspace.errors import ValidationError

# What an admin sets on a native channel: where replies are POSTed, signed.
SETTINGS = {"callback_url": settings.url}

SIGNATURE_HEADER = "X-Switchboard-Signature"
# Webhook bodies are at most 1 MiB, so text cannot exceed it either.
MAX_TEXT = 1024 * 1024


def authenticate(channel, headers, body: bytes) -> None:
    """Check the X-Switchboard-Signature header against the channel's secret."""
    require_signature(headers, SIGNATURE_HEADER, lambda header: verify(channel.secret, body, header))


def parse(payload, *, max_batch: int, headers=None, channel=None) -> list[InboundPost]:
    """Turn a decoded JSON payload into posts, all or nothing.

    Args:
        payload: one post object or a list of them.
        max_batch: how many posts one request may carry.
        headers: unused (the native format says everything in the body).
        channel: unused.

    Returns:
        The posts, in the order given.
    """
    return parse_each(payload, max_batch, parse_post)


def parse_each(payload, max_batch: int, parse_one) -> list[InboundPost]:
    """Parse one object, or a non-empty array of at most max_batch, with parse_one(item, prefix)."""
    if isinstance(payload, list):
        if not payload:
            raise ValidationError("the array of posts is empty", code="invalid_field")
        if len(payload) > max_batch:
            raise ValidationError(f"at most {max_batch} posts per request, got {len(payload)}",
                                  code="batch_too_large")
        return [parse_one(item, f"[{index}]") for index, item in enumerate(payload)]
    return [parse_one(payload, "")]


def parse_post(data, prefix: str = "") -> InboundPost:
    """Validate one native post object; errors name the offending field."""
    def at(name: str) -> str:
        return f"{prefix}.{name}" if prefix else name

    fields.get_object(data, prefix or "body")
    author = fields.get_object(data.get("author"), at("author"))
    return InboundPost(
        external_id=fields.get_id(data, "id", at("id")),
        author=InboundAuthor(
            external_id=fields.get_id(author, "id", at("author.id")),
            handle=(fields.get_text(author, "handle", at("author.handle"), required=True,
                                    allow_empty=False)).lstrip("@"),
            name=fields.get_text(author, "name", at("author.name")) or "",
            followers=fields.get_int(author, "followers", at("author.followers")),
            email=fields.get_text(author, "email", at("author.email"), limit=254),
            verified=fields.get_bool(author, "verified", at("author.verified")),
            profile_url=fields.get_url(author, "url", at("author.url")),
            avatar_url=fields.get_url(author, "avatar_url", at("author.avatar_url")),
        ),
        text=fields.get_text(data, "text", at("text"), required=True, limit=MAX_TEXT,
                             allow_empty=False),
        subject=fields.get_text(data, "subject", at("subject"), limit=fields.MAX_SUBJECT) or "",
        thread_id=fields.get_id(data, "thread_id", at("thread_id"), required=False),
        in_reply_to=fields.get_id(data, "in_reply_to", at("in_reply_to"), required=False),
        url=fields.get_url(data, "url", at("url")),
        created_at=fields.get_time(data, "created_at", at("created_at")),
        raw=data,
    )


# Replies go back as signed JSON callbacks to the channel's callback_url.
send = callback.send
