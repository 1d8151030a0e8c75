"""Webhook deliveries shaped exactly as each platform documents them, headers included.

Discourse: WebHookPostSerializer / WebHookTopicViewSerializer payloads and the
X-Discourse-* headers. X: Account Activity API `tweet_create_events` (v1.1
tweet objects with id and id_str). Khoros: Community API v2 message objects.
"""

import base64
import copy
import hashlib
import hmac
import json

from workspace.channels.signature import sign

DISCOURSE_INSTANCE = "https://forum.example.com"
X_CONSUMER_SECRET = "x-consumer-secret-0123456789"
BRAND_ID = "2244994945"
# Greetings in 20 scripts (Latin, Cyrillic, Greek, Hebrew, Arabic, Devanagari, Bengali, Gurmukhi, Tamil,
# Telugu, Kannada, Malayalam, Thai, Lao, Georgian, Armenian, Han, Kana, Hangul, Ethiopic) and emoji
# (with a skin tone modifier and a flag: several code points per glyph).
TWENTY_SCRIPTS = ("Hello Привет Γειά שלום مرحبا नमस्ते হ্যালো ਸਤ ਸ੍ਰੀ வணக்கம் హలో ಹಲೋ സലാം สวัสดี ສະບາຍດີ "
                  "გამარჯობა Բարեւ 你好 こんにちは 안녕하세요 ሰላም 🙂👍🏽🇵🇹")


def discourse_post(**overrides) -> dict:
    """A post_created payload for the first post of topic 321 by a regular user."""
    post = {
        "id": 1234, "name": "Maya Lin", "username": "maya",
        "avatar_template": "/user_avatar/forum.example.com/maya/{size}/2_2.png",
        "created_at": "2026-11-30T10:00:00.000Z", "cooked": "<p>I was <strong>charged twice</strong> for March.</p>",
        "post_number": 1, "post_type": 1, "updated_at": "2026-11-30T10:00:00.000Z", "reply_count": 0,
        "reply_to_post_number": None, "quote_count": 0, "incoming_link_count": 0, "reads": 0, "readers_count": 0,
        "score": 0, "topic_id": 321, "topic_slug": "charged-twice", "topic_title": "Charged twice",
        "category_id": 5, "display_username": "Maya Lin", "primary_group_name": None, "flair_name": None,
        "flair_group_id": None, "version": 1, "user_title": None, "bookmarked": False,
        "raw": "I was **charged twice** for March.", "moderator": False, "admin": False, "staff": False,
        "user_id": 77, "hidden": False, "trust_level": 1, "deleted_at": None, "user_deleted": False,
        "edit_reason": None, "wiki": False, "reviewable_id": None, "reviewable_score_count": 0,
        "reviewable_score_pending_count": 0, "topic_posts_count": 1, "topic_filtered_posts_count": 1,
        "topic_archetype": "regular", "category_slug": "support",
    }
    post.update(overrides)
    return {"post": post}


def discourse_topic(**overrides) -> dict:
    """A topic_created payload for topic 321 (a title and no text)."""
    creator = {"id": 77, "username": "maya", "name": "Maya Lin",
               "avatar_template": "/user_avatar/forum.example.com/maya/{size}/2_2.png"}
    topic = {
        "tags": [], "tags_descriptions": {}, "id": 321, "title": "Charged twice", "fancy_title": "Charged twice",
        "posts_count": 1, "created_at": "2026-11-30T10:00:00.000Z", "views": 0, "reply_count": 0, "like_count": 0,
        "last_posted_at": "2026-11-30T10:00:00.000Z", "visible": True, "closed": False, "archived": False,
        "archetype": "regular", "slug": "charged-twice", "category_id": 5, "word_count": 7, "deleted_at": None,
        "user_id": 77, "featured_link": None, "pinned_globally": False, "pinned_at": None, "pinned_until": None,
        "unpinned": None, "pinned": False, "highest_post_number": 1, "deleted_by": None, "has_deleted": False,
        "bookmarked": False, "participant_count": 1, "thumbnails": None, "created_by": creator,
        "last_poster": copy.deepcopy(creator),
    }
    topic.update(overrides)
    return {"topic": topic}


def discourse_headers(body: bytes, secret: str, event: str = "post_created", event_id: int = 17) -> dict:
    """The headers Discourse sends with a webhook delivery."""
    return {"Content-Type": "application/json", "User-Agent": "Discourse/3.3.0",
            "X-Discourse-Instance": DISCOURSE_INSTANCE, "X-Discourse-Event-Id": str(event_id),
            "X-Discourse-Event-Type": event.partition("_")[0], "X-Discourse-Event": event,
            "X-Discourse-Event-Signature": sign(secret, body)}


def tweet(number: int = 0, **overrides) -> dict:
    """A mention of the brand (@acme) as a v1.1 tweet object in tweet_create_events."""
    id_str = str(1050118621198921728 + number)
    data = {
        "created_at": "Wed Oct 10 20:19:24 +0000 2018",
        # The numeric id as a JavaScript client would see it: rounded. Only id_str is exact.
        "id": float(id_str), "id_str": id_str,
        "text": "@acme my order never arrived", "source": "<a href=\"https://mobile.x.com\">X Web App</a>",
        "truncated": False, "in_reply_to_status_id": None, "in_reply_to_status_id_str": None,
        "in_reply_to_user_id": int(BRAND_ID), "in_reply_to_user_id_str": BRAND_ID, "in_reply_to_screen_name": "acme",
        "user": {"id": 6253282 + number, "id_str": str(6253282 + number), "name": "Sam Rivera",
                 "screen_name": f"samr{number}", "location": "Lisbon", "url": None, "description": "",
                 "protected": False, "verified": False, "followers_count": 1520, "friends_count": 200,
                 "listed_count": 3, "favourites_count": 10, "statuses_count": 400,
                 "created_at": "Wed May 23 06:01:13 +0000 2007", "profile_image_url_https": "https://pbs.example/a.jpg",
                 "default_profile_image": False},
        "geo": None, "coordinates": None, "place": None, "contributors": None, "is_quote_status": False,
        "quote_count": 0, "reply_count": 0, "retweet_count": 0, "favorite_count": 0,
        "entities": {"hashtags": [], "urls": [], "symbols": [],
                     "user_mentions": [{"screen_name": "acme", "name": "Acme", "id": int(BRAND_ID),
                                        "id_str": BRAND_ID, "indices": [0, 5]}]},
        "favorited": False, "retweeted": False, "filter_level": "low", "lang": "en", "timestamp_ms": "1539202764000",
    }
    data.update(overrides)
    return data


def x_delivery(*tweets: dict, for_user_id: str = BRAND_ID) -> dict:
    """An Account Activity delivery of tweet_create_events."""
    return {"for_user_id": for_user_id, "tweet_create_events": list(tweets)}


def x_signature(body: bytes, secret: str = X_CONSUMER_SECRET) -> str:
    """x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256 of the body>."""
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def x_headers(body: bytes, secret: str = X_CONSUMER_SECRET) -> dict:
    """The headers X sends with an Account Activity delivery."""
    return {"Content-Type": "application/json; charset=utf-8",
            "x-twitter-webhooks-signature": x_signature(body, secret)}


def khoros_message(message_id: str = "173", **overrides) -> dict:
    """A Khoros Community API v2 message object (a topic message when parent is absent)."""
    data = {
        "type": "message", "id": message_id, "href": f"/messages/{message_id}",
        "view_href": f"https://community.example.com/t5/Support/Charged-twice/m-p/{message_id}#M42",
        "author": {"type": "user", "id": "45", "href": "/users/45", "login": "maya",
                   "view_href": "https://community.example.com/t5/user/viewprofilepage/user-id/45"},
        "subject": "Charged twice", "search_snippet": "", "body": "<p>I was charged <b>twice</b> for March.</p>",
        "teaser": "", "board": {"type": "board", "id": "support", "href": "/boards/support",
                                "view_href": "https://community.example.com/t5/Support/bd-p/support"},
        "conversation": {"type": "conversation", "id": message_id, "href": f"/conversations/{message_id}",
                         "style": "forum", "thread_style": "forum", "messages_count": 1, "solved": False,
                         "last_post_time": "2026-11-30T02:18:21.017-08:00"},
        "post_time": "2026-11-30T02:18:21.017-08:00", "depth": 0, "read_only": False, "language": "en",
        "can_accept_solution": False, "is_solution": False, "kudos": {"sum": {"weight": 0}},
    }
    data.update(overrides)
    return data


def encode(payload) -> bytes:
    """The raw body a platform sends (compact JSON, UTF-8)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def post_webhook(client, slug: str, body: bytes, headers: dict, overrides: dict | None = None):
    """POST a raw body with a platform's headers; an override of None leaves that header out."""
    sent = {**headers, **(overrides or {})}
    return client.post(f"/webhooks/{slug}", data=body, headers={k: v for k, v in sent.items() if v is not None})


def refused_without_writing(send, counts, options: dict, payload, status: int) -> None:
    """Send a bad delivery (options: payload, body, secret, headers, event) and check its status,
    that the error says something, and that no row changed."""
    before = counts()
    options = dict(options)
    response = send(options.pop("payload", payload), **options)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["message"]
    assert counts() == before
