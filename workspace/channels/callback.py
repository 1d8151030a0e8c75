"""Replies as signed JSON callbacks: native channels, and X and Khoros through the brand's relay.

The channel's `callback_url` receives a POST per reply, signed like the
webhooks it sends us (`X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of the
body with the channel's secret>`) and carrying `Idempotency-Key`: the same key
on every attempt of the same reply, so a receiver that remembers keys posts
each reply once however often a timed-out attempt is retried.
"""

import json

import requests

from workspace.channels.outbound import NotConfigured, check, parent_post, timeout
from workspace.channels.signature import sign
from workspace.models import Message
from workspace.serializers import timestamp

EVENT = "reply.created"


def reply_body(message: Message, key: str) -> dict:
    """What the receiver needs to post the reply where the customer wrote."""
    conversation = message.conversation
    parent = parent_post(message)
    return {
        "event": EVENT,
        "idempotency_key": key,
        "channel": conversation.channel.slug,
        "reply": {"id": message.id, "text": message.text, "created_at": timestamp(message.created_at),
                  "agent": {"id": message.agent.id, "name": message.agent.name} if message.agent else None},
        "conversation": {"id": conversation.id, "subject": conversation.subject,
                         "thread_id": conversation.thread_key, "private": conversation.private},
        "in_reply_to": {"id": parent.external_id, "url": parent.url} if parent else None,
        "customer": {"id": conversation.author.external_id, "handle": conversation.author.handle},
        # A private conversation's reply goes back privately (an X direct message to customer.id), never as a post.
        "visibility": "private" if conversation.private else "public",
    }


def send(message: Message, *, key: str, retrying: bool) -> None:
    """POST the signed reply to the channel's callback URL (a resend carries the same Idempotency-Key).

    Args:
        message: the outbound reply.
        key: its delivery key, sent as Idempotency-Key.
        retrying: unused: the key is what makes a resend harmless.

    Returns:
        None: a callback does not say where the reply ends up.
    """
    channel = message.conversation.channel
    url = (channel.settings or {}).get("callback_url")
    if not url:
        raise NotConfigured(f"no outbound delivery: channel {channel.slug} has no callback_url")
    body = json.dumps(reply_body(message, key), separators=(",", ":")).encode()
    response = requests.post(url, data=body, timeout=timeout(), allow_redirects=False, headers={
        "Content-Type": "application/json", "User-Agent": "Switchboard", "Idempotency-Key": key,
        "X-Switchboard-Event": EVENT, "X-Switchboard-Signature": sign(channel.secret, body)})
    check(response, "the callback URL")
    return None
