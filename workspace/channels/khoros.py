"""Khoros Community messages (Community API v2 message objects), forwarded by the community's own relay.

Khoros has no outgoing webhook of its own, so a community still on Khoros
forwards each new message as the API v2 returns it (one object or an array)
and signs the body as native senders do (`X-Switchboard-Signature`). A
message threads by `conversation.id` (the Khoros thread) and `parent.id`.
"""

from workspace.channels import callback, fields, settings
from workspace.channels.html import html_to_text
from workspace.channels.native import MAX_TEXT, authenticate, parse_each
from workspace.channels.post import InboundAuthor, InboundPost
from workspace.errors import ValidationError

# What an admin sets on a Khoros channel: the brand's relay that posts replies.
SETTINGS = {"callback_url": settings.url}

__all__ = ["authenticate", "parse"]


def parse(payload, *, max_batch: int, headers=None, channel=None) -> list[InboundPost]:
    """Turn Khoros message objects into posts, all or nothing.

    Args:
        payload: one message object or an array of at most max_batch.
        max_batch: how many messages one request may carry.
        headers: unused.
        channel: unused.

    Returns:
        The posts, in the order given.
    """
    return parse_each(payload, max_batch, _message)


def _nested_id(data: dict, key: str, at: str, *, required: bool) -> str | None:
    """The id of a nested reference such as "board": {"type": "board", "id": "support"}."""
    value = data.get(key)
    if value is None and not required:
        return None
    return fields.get_id(fields.get_object(value, at), "id", f"{at}.id", required=required)


def _message(data, prefix: str) -> InboundPost:
    def at(name: str) -> str:
        return f"{prefix}.{name}" if prefix else name

    fields.get_object(data, prefix or "body")
    kind = data.get("type", "message")
    if kind != "message":
        raise ValidationError(f"{at('type')}: only message objects are accepted, not {str(kind)[:40]!r}",
                              code="unknown_event")
    author = fields.get_object(data.get("author"), at("author"))
    body = fields.get_text(data, "body", at("body"), required=True, limit=MAX_TEXT)
    text = html_to_text(body)
    if not text:
        raise ValidationError(f"{at('body')}: has no text", code="invalid_field")
    _nested_id(data, "board", at("board"), required=False)
    return InboundPost(
        external_id=fields.get_id(data, "id", at("id")),
        author=InboundAuthor(
            external_id=fields.get_id(author, "id", at("author.id")),
            handle=fields.get_text(author, "login", at("author.login"), required=True, allow_empty=False),
        ),
        text=text,
        subject=fields.get_text(data, "subject", at("subject"), limit=fields.MAX_SUBJECT) or "",
        thread_id=_nested_id(data, "conversation", at("conversation"), required=False),
        in_reply_to=_nested_id(data, "parent", at("parent"), required=False),
        url=fields.get_url(data, "view_href", at("view_href")),
        created_at=fields.get_time(data, "post_time", at("post_time")),
        raw=data,
    )


# Replies go out through the brand's relay (a signed callback).
send = callback.send
