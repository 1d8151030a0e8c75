"""Discourse webhooks, as a forum sends them (Admin → API → Webhooks, content type application/json).

Each delivery is one event named by `X-Discourse-Event` (`post_created`, …)
in a family named by `X-Discourse-Event-Type` (`post`, `topic`, `ping`, …),
signed in `X-Discourse-Event-Signature: sha256=<hex HMAC-SHA256 of the body>`
with the webhook's secret, which is the channel's secret.

A post edited on the forum arrives as `post_edited` with its new raw text, and a
deleted one as `post_destroyed`, and one restored by a moderator as `post_recovered`
with its text: the stored message takes the new text (the old one kept in its
history), or is hidden and loses its text, or is shown again; never a second message.

A new topic arrives twice: `topic_created` (title, no text) and `post_created`
with `post_number` 1, whose payload carries the topic's title too
(`topic_title`), in either order. The post is the one stored, with the title
as subject; `topic_created` adds nothing, so whichever comes first, the topic
is one conversation.

Replies go out as Discourse posts: `POST /posts.json` with `Api-Key` and `Api-Username`, `topic_id` and `raw`.

Discourse has no idempotency key, so each reply's raw text ends with an HTML
comment naming its delivery key (invisible once cooked). Before re-posting
after an attempt whose outcome is unknown (a timeout, a worker that died before
recording success), the sender looks for that marker among the topic's recent
posts by the API user, and returns the post it finds instead of posting again.
"""

from dataclasses import replace
from urllib.parse import quote, urlsplit

import requests

from workspace.channels import fields, settings
from workspace.channels.html import html_to_text
from workspace.channels.native import MAX_TEXT
from workspace.channels.outbound import NotConfigured, Refused, check, parent_post, timeout
from workspace.channels.post import Ignored, InboundAuthor, InboundPost, SourceChange
from workspace.channels.signature import require_signature, verify
from workspace.errors import ValidationError
from workspace.models import Message

# What an admin sets on a Discourse channel: the forum, and the API key and user replies are posted as.
SETTINGS = {"base_url": settings.url, "api_key": settings.token,
            "api_username": settings.pattern(r"[\w.-]{1,60}", "a Discourse username (letters, digits, _ . -)")}

SIGNATURE_HEADER = "X-Discourse-Event-Signature"
EVENT_HEADER = "X-Discourse-Event"
TYPE_HEADER = "X-Discourse-Event-Type"
INSTANCE_HEADER = "X-Discourse-Instance"
# Event families Discourse sends (core and its bundled plugins); their other
# events (likes, users, …) are acknowledged and not tracked.
KNOWN_TYPES = frozenset({
    "ping", "topic", "post", "user", "group", "category", "tag", "reviewable", "notification", "solved",
    "assign", "user_badge", "group_user", "like", "user_promoted", "topic_voting", "chat_message", "flag",
})
REGULAR_POST = 1  # post_type: 2 moderator action, 3 small action, 4 whisper (staff only)
PRIVATE_MESSAGE = "private_message"  # topic_archetype of personal messages


def authenticate(channel, headers, body: bytes) -> None:
    """Check X-Discourse-Event-Signature against the channel's secret (Discourse's webhook secret)."""
    require_signature(headers, SIGNATURE_HEADER, lambda header: verify(channel.secret, body, header),
                      hint=" (set the webhook's secret in Discourse)")


def parse(payload, *, max_batch: int, headers, channel) -> list[InboundPost] | list[SourceChange]:
    """Turn one Discourse event into its post (post_created) or the change to one (post_edited, post_destroyed,
    post_recovered).

    Args:
        payload: the decoded body, e.g. {"post": {...}}.
        max_batch: unused (Discourse sends one event per delivery).
        headers: the request headers, which name the event.
        channel: the channel row, whose settings name the API user replies are posted as.

    Returns:
        The post or the change, as a one-item list; raises Ignored for events that carry neither.
    """
    event = headers.get(EVENT_HEADER, "")
    family = headers.get(TYPE_HEADER) or event.partition("_")[0]
    if not event:
        raise ValidationError(f"missing {EVENT_HEADER} header", code="unknown_event")
    if family not in KNOWN_TYPES:
        raise ValidationError(f"unknown Discourse event type {family[:64]!r}", code="unknown_event")
    fields.get_object(payload, "body")
    if event == "post_created":
        return [_post(fields.get_object(payload.get("post"), "post"), headers, channel)]
    if event in ("post_edited", "post_destroyed", "post_recovered"):
        change = _change(fields.get_object(payload.get("post"), "post"), deleted=event == "post_destroyed")
        return [replace(change, recovered=True) if event == "post_recovered" else change]
    if event == "topic_created":
        fields.get_object(payload.get("topic"), "topic")
        raise Ignored("a topic's text and title arrive with its first post (post_created, post_number 1)")
    raise Ignored(f"event {event[:64]!r} is not tracked")


def _change(post: dict, *, deleted: bool) -> SourceChange:
    """An edited post's new text and title, or the news that it is gone."""
    external_id = fields.get_id(post, "id", "post.id")
    if deleted:
        return SourceChange(external_id, deleted=True)
    text = _text(post)
    return SourceChange(external_id, text=text,
                        subject=fields.get_text(post, "topic_title", "post.topic_title", limit=fields.MAX_SUBJECT))


def _text(post: dict) -> str:
    """The post's text: its raw Markdown, else its cooked HTML as text; a post with neither is refused."""
    raw = fields.get_text(post, "raw", "post.raw", limit=MAX_TEXT)
    text = raw if raw and raw.strip() else html_to_text(
        fields.get_text(post, "cooked", "post.cooked", limit=MAX_TEXT) or "")
    if not text.strip():
        raise ValidationError("post: neither raw nor cooked has any text", code="invalid_field")
    return text


def _post(post: dict, headers, channel) -> InboundPost:
    if post.get("post_type", REGULAR_POST) != REGULAR_POST:
        raise Ignored("not a regular post (a whisper, or a moderator or small action)")
    if post.get("deleted_at"):
        raise Ignored("the post is deleted")
    username = fields.get_text(post, "username", "post.username", required=True, allow_empty=False)
    if post.get("staff") or post.get("admin") or post.get("moderator"):
        raise Ignored("posted by staff: the brand's own post is not queued")
    if username == (channel.settings or {}).get("api_username"):
        raise Ignored("posted by Switchboard's own API user")
    text = _text(post)
    topic_id = fields.get_id(post, "topic_id", "post.topic_id")
    post_number = fields.get_int(post, "post_number", "post.post_number")
    trust_level = fields.get_int(post, "trust_level", "post.trust_level")
    return InboundPost(
        external_id=fields.get_id(post, "id", "post.id"),
        author=InboundAuthor(
            external_id=fields.get_id(post, "user_id", "post.user_id"),
            handle=username,
            name=fields.get_text(post, "name", "post.name") or "",
            trust_level=min(trust_level, 4) if trust_level is not None else None,
        ),
        text=text,
        subject=fields.get_text(post, "topic_title", "post.topic_title", limit=fields.MAX_SUBJECT) or "",
        thread_id=topic_id,
        url=_post_url(headers.get(INSTANCE_HEADER), post, topic_id, post_number),
        created_at=fields.get_time(post, "created_at", "post.created_at"),
        private=post.get("topic_archetype") == PRIVATE_MESSAGE,
        raw=post,
    )


def _post_url(instance: str | None, post: dict, topic_id: str, post_number: int | None) -> str | None:
    """The post's address on the forum, from the instance the webhook names (http/https only)."""
    parts = urlsplit(instance or "")
    if parts.scheme not in ("http", "https") or not parts.netloc or len(instance) > 500:
        return None
    slug = post.get("topic_slug") if isinstance(post.get("topic_slug"), str) else "-"
    return f"{instance.rstrip('/')}/t/{quote(slug[:200])}/{quote(topic_id)}/{post_number or 1}"


# --- replies out ----------------------------------------------------------------------------------

# How far back in a topic to look for an earlier attempt's post.
RECENT_POSTS = 50


def marker(key: str) -> str:
    """The invisible tag that identifies a reply's post in its topic."""
    return f"<!-- switchboard-reply:{key} -->"


class _Forum:
    """The channel's Discourse site, called as its API user."""

    def __init__(self, settings: dict, slug: str):
        missing = [name for name in ("base_url", "api_key", "api_username") if not settings.get(name)]
        if missing:
            raise NotConfigured(f"no outbound delivery: Discourse channel {slug} needs {', '.join(missing)}")
        self.base = settings["base_url"]
        self.username = settings["api_username"]
        self.headers = {"Api-Key": settings["api_key"], "Api-Username": self.username, "User-Agent": "Switchboard"}

    def call(self, method: str, path: str, **kwargs) -> dict:
        response = requests.request(method, f"{self.base}{path}", headers=self.headers, timeout=timeout(),
                                    allow_redirects=False, **kwargs)
        check(response, f"Discourse {method} {path}")
        try:
            return response.json()
        except ValueError:
            raise requests.HTTPError(f"Discourse {method} {path} answered with no JSON", response=response)

    def find_marked(self, topic_id: str, tag: str) -> dict | None:
        """Return our post in the topic that carries this marker, if an earlier attempt made one."""
        topic = self.call("GET", f"/t/{topic_id}.json")
        recent = topic.get("post_stream", {}).get("stream", [])[-RECENT_POSTS:]
        if not recent:
            return None
        chunk = self.call("GET", f"/t/{topic_id}/posts.json", params={"post_ids[]": recent})
        ours = [p["id"] for p in chunk.get("post_stream", {}).get("posts", []) if p.get("username") == self.username]
        for post_id in reversed(ours):
            post = self.call("GET", f"/posts/{post_id}.json")
            if tag in (post.get("raw") or ""):
                return post
        return None

    def post_url(self, post: dict) -> str:
        return f"{self.base}/t/{post.get('topic_slug') or '-'}/{post['topic_id']}/{post['post_number']}"


def send(message: Message, *, key: str, retrying: bool) -> str:
    """Post the reply in the conversation's topic, unless an earlier attempt already did.

    Args:
        message: the outbound reply.
        key: its delivery key, hidden in the post's raw text.
        retrying: an earlier attempt may have posted: look for it first.

    Returns:
        The post's URL on the forum.
    """
    conversation = message.conversation
    forum = _Forum(conversation.channel.settings or {}, conversation.channel.slug)
    topic_id = conversation.thread_key
    if not topic_id or not topic_id.isdigit():
        raise Refused("the conversation has no Discourse topic to reply in")
    tag = marker(key)
    if retrying and (earlier := forum.find_marked(topic_id, tag)):
        return forum.post_url(earlier)
    body = {"topic_id": int(topic_id), "raw": f"{message.text}\n\n{tag}"}
    parent = parent_post(message)
    post_number = (parent.raw or {}).get("post_number") if parent else None
    if isinstance(post_number, int) and post_number > 1:
        body["reply_to_post_number"] = post_number  # shown in Discourse as a reply to the customer's post
    created = forum.call("POST", "/posts.json", json=body)
    if "topic_id" not in created or "post_number" not in created:
        raise requests.HTTPError("Discourse POST /posts.json answered without the new post")
    return forum.post_url(created)
