"""Replies as Discourse posts: `POST /posts.json` with `Api-Key` and `Api-Username`, `topic_id` and `raw`.

Discourse has no idempotency key, so each reply's raw text ends with an HTML
comment naming its delivery key (invisible once cooked). Before re-posting
after an attempt whose outcome is unknown (a timeout, a worker that died before
recording success), the sender looks for that marker among the topic's recent
posts by the API user, and returns the post it finds instead of posting again.
"""

import requests

from workspace.channels.outbound import NotConfigured, Refused, check, parent_post, timeout
from workspace.models import Message

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
