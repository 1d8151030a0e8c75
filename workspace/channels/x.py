"""X (Twitter) Account Activity API webhooks: the CRC challenge, tweet_create_events and direct_message_events.

X signs every delivery in `x-twitter-webhooks-signature: sha256=<base64
HMAC-SHA256 of the body>` with the app's consumer secret, and checks the URL
with `GET ?crc_token=…`, expecting the token signed the same way. Tweets are
read by `id_str` (numeric ids overflow JavaScript doubles and are never used),
with `extended_tweet.full_text` when `truncated`. The brand's own tweets
(author = `for_user_id`) and retweets are not customer posts and are not queued.

A direct message (`direct_message_events`, type `message_create`) is a private
post: its conversation is the customer's DM thread (`dm-<sender id>`), never
joined with their public mentions, and replies to it leave through the relay
marked `"visibility": "private"` so the relay sends them as direct messages.
"""

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime
from urllib.parse import quote

from workspace.channels import callback, fields, settings
from workspace.channels.native import MAX_TEXT
from workspace.channels.post import Ignored, InboundAuthor, InboundPost, SourceChange
from workspace.channels.signature import require_signature
from workspace.errors import Unauthorized, ValidationError

# What an admin sets on an X channel: the app's consumer secret (CRC and signatures), the account, the relay.
SETTINGS = {"consumer_secret": settings.token,
            "user_id": settings.pattern(r"[0-9]{1,20}", "the account's numeric id, as digits (id_str)"),
            "callback_url": settings.url}
# X allows 280 characters a reply and counts every link as 23 (its t.co length).
REPLY_LIMIT = 280
LINK_CHARS = 23

SIGNATURE_HEADER = "x-twitter-webhooks-signature"
TWEETS = "tweet_create_events"
# The Account Activity event keys other than tweets: acknowledged, not tracked.
UNTRACKED = frozenset({
    "favorite_events", "follow_events", "unfollow_events", "block_events", "unblock_events", "mute_events",
    "unmute_events", "user_event", "direct_message_indicate_typing_events",
    "direct_message_mark_read_events",
})
# A customer deleted a tweet: {"status": {"id": ..., "user_id": ...}, "timestamp_ms": ...} each.
DELETES = "tweet_delete_events"
DMS = "direct_message_events"
CREATED_AT = "%a %b %d %H:%M:%S %z %Y"
# X's tokens are base64; no JSON body (which needs braces and quotes) can match.
CRC_TOKEN = re.compile(r"[A-Za-z0-9+/=_-]{1,256}")  # "Wed Oct 10 20:19:24 +0000 2018"


def _consumer_secret(channel) -> str:
    secret = (channel.settings or {}).get("consumer_secret")
    if not secret:
        raise Unauthorized("this X channel has no consumer_secret setting yet", code="signature_unconfigured")
    return secret


def _sign(secret: str, data: bytes) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), data, hashlib.sha256).digest()).decode()


def authenticate(channel, headers, body: bytes) -> None:
    """Check x-twitter-webhooks-signature (base64, not hex) against the app's consumer secret."""
    secret = _consumer_secret(channel)
    require_signature(headers, SIGNATURE_HEADER,
                      lambda header: hmac.compare_digest(_sign(secret, body).encode(), header.strip().encode()))


def challenge(channel, args) -> dict:
    """Answer X's CRC check: the crc_token signed with the consumer secret, base64."""
    token = args.get("crc_token")
    if not token:
        raise ValidationError("crc_token: is required", code="invalid_field")
    # The answer is an HMAC of whatever token is asked: without this check anyone
    # could have us sign a JSON body of their choosing and forge a delivery.
    if not CRC_TOKEN.fullmatch(token):
        raise ValidationError("crc_token: at most 256 base64 characters", code="invalid_field")
    return {"response_token": _sign(_consumer_secret(channel), token.encode())}


def parse(payload, *, max_batch: int, headers, channel) -> list[InboundPost] | list[SourceChange]:
    """Turn an Account Activity delivery into the mentions it carries, all or nothing.

    Args:
        payload: the decoded body: {"for_user_id": ..., "tweet_create_events": [...]} or another event.
        max_batch: unused: X decides how many tweets a delivery carries (the 1 MiB body bounds it).
        headers: unused.
        channel: the channel row; its user_id setting, when set, must be the payload's for_user_id.

    Returns:
        The customers' tweets, in order; raises Ignored when there are none.
    """
    fields.get_object(payload, "body")
    if "for_user_id" not in payload and "user_event" in payload and TWEETS not in payload:
        raise Ignored("user_event are not tracked")  # an app revoke: X sends it without for_user_id
    brand = fields.get_id(payload, "for_user_id", "for_user_id")
    expected = (channel.settings or {}).get("user_id")
    if expected and brand != expected:
        raise ValidationError(f"for_user_id: {brand} is not this channel's account ({expected})",
                              code="wrong_account")
    if TWEETS not in payload and DELETES in payload:
        return _deletions(payload[DELETES])
    if TWEETS not in payload and DMS in payload:
        messages = _direct_messages(payload, brand)
        if not messages:
            raise Ignored("only the brand's own direct messages (or other DM events): nothing to queue")
        return messages
    if TWEETS not in payload:
        untracked = sorted(UNTRACKED & set(payload))
        if untracked:
            raise Ignored(f"{untracked[0]} are not tracked")
        raise ValidationError("body: no Account Activity event this channel knows (tweet_create_events, …)",
                              code="unknown_event")
    tweets = payload[TWEETS]
    if not isinstance(tweets, list) or not tweets:
        raise ValidationError(f"{TWEETS}: a non-empty array", code="invalid_field")
    posts = [post for index, tweet in enumerate(tweets) if (post := _tweet(tweet, f"{TWEETS}[{index}]", brand))]
    if not posts:
        raise Ignored("only the brand's own tweets or retweets: nothing to queue")
    return posts


def _direct_messages(payload: dict, brand: str) -> list[InboundPost]:
    """The customers' direct messages of a delivery, each a private post in the customer's DM thread."""
    events = payload[DMS]
    if not isinstance(events, list) or not events:
        raise ValidationError(f"{DMS}: a non-empty array", code="invalid_field")
    users = payload.get("users") or {}
    fields.get_object(users, "users")
    posts = []
    for index, event in enumerate(events):
        at = f"{DMS}[{index}]"
        fields.get_object(event, at)
        if event.get("type") != "message_create":
            continue
        create = fields.get_object(event.get("message_create"), f"{at}.message_create")
        sender = fields.get_id(create, "sender_id", f"{at}.message_create.sender_id")
        if sender == brand:
            continue  # the brand's own DM (our reply, sent through the relay)
        data = fields.get_object(create.get("message_data"), f"{at}.message_create.message_data")
        text = fields.get_text(data, "text", f"{at}.message_create.message_data.text", required=True,
                               limit=MAX_TEXT, allow_empty=False)
        user = users.get(sender) or {}
        fields.get_object(user, f"users.{sender}")
        posts.append(InboundPost(
            external_id=f"dm-{fields.get_id(event, 'id', f'{at}.id')}",
            author=InboundAuthor(
                external_id=sender,
                handle=fields.get_text(user, "screen_name", f"users.{sender}.screen_name") or sender,
                name=fields.get_text(user, "name", f"users.{sender}.name") or "",
                followers=fields.get_int(user, "followers_count", f"users.{sender}.followers_count"),
                verified=fields.get_bool(user, "verified", f"users.{sender}.verified"),
                avatar_url=fields.get_url(user, "profile_image_url_https", f"users.{sender}.profile_image_url_https"),
            ),
            text=text, thread_id=f"dm-{sender}", private=True,
            created_at=_timestamp_ms(event, at), raw=event,
        ))
    return posts


def _timestamp_ms(event: dict, at: str) -> datetime | None:
    """A DM's created_timestamp: milliseconds since the epoch, as a string of digits."""
    value = fields.get_id(event, "created_timestamp", f"{at}.created_timestamp", required=False)
    if value is None:
        return None
    if not value.isdigit() or len(value) > 15:
        raise ValidationError(f"{at}.created_timestamp: milliseconds since 1970, as digits", code="invalid_field")
    return fields.in_range(datetime.fromtimestamp(int(value) / 1000, tz=UTC), f"{at}.created_timestamp")


def _deletions(events) -> list[SourceChange]:
    """The tweets a delivery of tweet_delete_events says are gone."""
    if not isinstance(events, list) or not events:
        raise ValidationError(f"{DELETES}: a non-empty array", code="invalid_field")
    changes = []
    for index, event in enumerate(events):
        fields.get_object(event, f"{DELETES}[{index}]")
        status = fields.get_object(event.get("status"), f"{DELETES}[{index}].status")
        changes.append(SourceChange(fields.get_id(status, "id", f"{DELETES}[{index}].status.id"), deleted=True))
    return changes


def _tweet(tweet, at: str, brand: str) -> InboundPost | None:
    """One tweet as a post, or None for the brand's own tweets and retweets."""
    fields.get_object(tweet, at)
    user = fields.get_object(tweet.get("user"), f"{at}.user")
    author_id = fields.get_id(user, "id_str", f"{at}.user.id_str")
    tweet_id = fields.get_id(tweet, "id_str", f"{at}.id_str")
    if author_id == brand or "retweeted_status" in tweet:
        return None
    text = fields.get_text(tweet, "text", f"{at}.text", limit=MAX_TEXT)
    if tweet.get("truncated"):
        extended = fields.get_object(tweet.get("extended_tweet"), f"{at}.extended_tweet")
        text = fields.get_text(extended, "full_text", f"{at}.extended_tweet.full_text", required=True,
                               limit=MAX_TEXT)
    if not text or not text.strip():
        raise ValidationError(f"{at}.text: is required", code="invalid_field")
    handle = fields.get_text(user, "screen_name", f"{at}.user.screen_name", required=True, allow_empty=False)
    return InboundPost(
        external_id=tweet_id,
        author=InboundAuthor(
            external_id=author_id, handle=handle,
            name=fields.get_text(user, "name", f"{at}.user.name") or "",
            followers=fields.get_int(user, "followers_count", f"{at}.user.followers_count"),
            verified=fields.get_bool(user, "verified", f"{at}.user.verified"),
            profile_url=fields.get_url(user, "url", f"{at}.user.url"),
            avatar_url=fields.get_url(user, "profile_image_url_https", f"{at}.user.profile_image_url_https"),
        ),
        text=text,
        in_reply_to=fields.get_id(tweet, "in_reply_to_status_id_str", f"{at}.in_reply_to_status_id_str",
                                  required=False),
        url=f"https://x.com/{quote(handle)}/status/{quote(tweet_id)}",
        created_at=_created_at(tweet, at),
        raw=tweet,
    )


def _created_at(tweet: dict, at: str) -> datetime | None:
    value = fields.get_text(tweet, "created_at", f"{at}.created_at", limit=64)
    if value is None:
        return None
    try:
        moment = datetime.strptime(value, CREATED_AT)
    except ValueError:
        raise ValidationError(f"{at}.created_at: X's format, e.g. 'Wed Oct 10 20:19:24 +0000 2018'",
                              code="invalid_field")
    return fields.in_range(moment, f"{at}.created_at")


# Replies go out through the brand's relay (a signed callback), until native posting is added.
send = callback.send
