"""Incoming volume per 5 minutes, counted as the routing job places posts.

Per queue, tag and model label in the `volume_counts` rollup (with
sentiment), and per recurring phrase in Redis. Dashboards, the weekly report
and spike detection read these small counters instead of counting
conversations, which at a million rows cost tens of milliseconds a query.
"""

from collections import defaultdict
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from routing.spikes import BUCKET_MINUTES, phrases
from workspace.extensions import db
from workspace.infra.broker import redis_client
from workspace.models import Conversation, VolumeCount

# Phrase buckets live a day and two hours: spike detection compares with the same time a day earlier.
PHRASE_TTL_SECONDS = 26 * 3600
# Each bucket keeps its most frequent phrases only; a rare phrase is never a spike.
PHRASES_KEPT = 2_000
# Below this compound score a post counts as negative (VADER's usual cut-off).
NEGATIVE_BELOW = -0.05


def bucket_of(moment: datetime) -> datetime:
    """The start of the 5-minute bucket a moment falls in."""
    return moment.replace(minute=moment.minute - moment.minute % BUCKET_MINUTES, second=0, microsecond=0)


def redis_key(*parts) -> str:
    """A Redis key in this installation's namespace (its RQ queue name, unique per test app too)."""
    return ":".join([current_app.config["RQ_QUEUE"], *map(str, parts)])


def phrase_key(bucket: datetime) -> str:
    """The Redis sorted set of phrase counts for one bucket."""
    return redis_key("volume", "phrase", int(bucket.timestamp()))


def record(conversations: list[Conversation], texts: list[str]) -> None:
    """Count routed posts into the rollup (in the caller's transaction) and their phrases into Redis.

    Args:
        conversations: conversations just routed, with their queue, tags and explanation set.
        texts: the post each was routed on, in the same order.
    """
    totals: dict[tuple, list] = defaultdict(lambda: [0, 0.0, 0])
    phrase_counts: dict[datetime, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for conversation, text in zip(conversations, texts, strict=True):
        if conversation.status == "spam":
            continue
        bucket = bucket_of(conversation.last_message_at)
        explanation = conversation.explanation or {}
        score = float(explanation.get("sentiment") or 0.0)
        labels = (explanation.get("model") or {}).get("labels") or []
        keys = [("queue", conversation.queue.slug)] + [("tag", tag) for tag in conversation.tags or ()]
        if labels:
            keys.append(("label", str(labels[0][0])))
        for kind, key in keys:
            row = totals[(kind, bucket, key[:64])]
            row[0] += 1
            row[1] += score
            row[2] += score < NEGATIVE_BELOW
        for phrase in phrases(text):
            phrase_counts[bucket][phrase] += 1
    if totals:
        _upsert(totals)
    if phrase_counts:
        _count_phrases(phrase_counts)


def dialect_insert(table):
    """An INSERT with ON CONFLICT support, in the current database's dialect (SQLite or PostgreSQL)."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _upsert(totals: dict[tuple, list]) -> None:
    """Add to the rollup rows, creating them as needed, in key order (so concurrent jobs cannot deadlock)."""
    rows = [{"kind": kind, "bucket_start": bucket, "key": key, "posts": posts, "sentiment_sum": total,
             "negative": negative} for (kind, bucket, key), (posts, total, negative) in sorted(totals.items())]
    statement = dialect_insert(VolumeCount)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["kind", "bucket_start", "key"],
        set_={"posts": VolumeCount.posts + statement.excluded.posts,
              "sentiment_sum": VolumeCount.sentiment_sum + statement.excluded.sentiment_sum,
              "negative": VolumeCount.negative + statement.excluded.negative}), rows)


# Adds many phrase counts to one bucket in one command (a pipeline of ZINCRBYs spent more
# time packing commands than Redis spent running them: about 40 ms per 100 posts).
_ADD_PHRASES = """
for i = 1, #ARGV - 2, 2 do redis.call('ZINCRBY', KEYS[1], ARGV[i + 1], ARGV[i]) end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -tonumber(ARGV[#ARGV - 1]) - 1)
redis.call('EXPIRE', KEYS[1], ARGV[#ARGV])
"""


def _count_phrases(phrase_counts: dict[datetime, dict[str, int]]) -> None:
    """Add phrase counts to each bucket's sorted set, keeping its top PHRASES_KEPT, in one round trip."""
    redis = redis_client()
    script = redis.register_script(_ADD_PHRASES)
    with redis.pipeline(transaction=False) as pipe:
        for bucket, counts in phrase_counts.items():
            args = [item for phrase_count in counts.items() for item in phrase_count]
            script(keys=[phrase_key(bucket)], args=[*args, PHRASES_KEPT, PHRASE_TTL_SECONDS], client=pipe)
        pipe.execute()


def series(kind: str, start: datetime, end: datetime) -> dict[str, list[int]]:
    """Posts per bucket for every key of a kind, from start up to end (zeros where none came).

    Args:
        kind: "queue", "tag" or "label".
        start: the first bucket's start.
        end: the last bucket's start.

    Returns:
        Counts per bucket, oldest first, by key.
    """
    buckets = _bucket_index(start, end)
    result: dict[str, list[int]] = {}
    rows = db.session.execute(sa.select(VolumeCount.key, VolumeCount.bucket_start, VolumeCount.posts)
                              .where(VolumeCount.kind == kind, VolumeCount.bucket_start >= start,
                                     VolumeCount.bucket_start <= end))
    for key, bucket, posts in rows:
        result.setdefault(key, [0] * len(buckets))[buckets[bucket]] += posts
    return result


def phrase_series(start: datetime, end: datetime, candidates_from: datetime, min_count: int) -> dict[str, list[int]]:
    """Counts per bucket of the phrases frequent since `candidates_from`, from start up to end.

    Two round trips: the top phrases of the recent buckets, then their counts in every bucket.

    Args:
        start: the first bucket's start.
        end: the last bucket's start.
        candidates_from: phrases are candidates if frequent in the buckets from here to end.
        min_count: a candidate needs at least this many posts across those buckets together.

    Returns:
        Counts per bucket, oldest first, by phrase.
    """
    buckets = list(_bucket_index(start, end))
    recent = [bucket for bucket in buckets if bucket >= candidates_from]
    redis = redis_client()
    with redis.pipeline(transaction=False) as pipe:
        for bucket in recent:
            pipe.zrevrange(phrase_key(bucket), 0, 49, withscores=True)
        tops = pipe.execute()
    together: dict[str, float] = defaultdict(float)
    for top in tops:
        for phrase, score in top:
            together[phrase.decode()] += score
    candidates = sorted(phrase for phrase, total in together.items() if total >= min_count)
    if not candidates:
        return {}
    with redis.pipeline(transaction=False) as pipe:
        for bucket in buckets:
            pipe.zmscore(phrase_key(bucket), candidates)
        scores = pipe.execute()
    return {phrase: [int(column[i] or 0) for column in scores] for i, phrase in enumerate(candidates)}


def _bucket_index(start: datetime, end: datetime) -> dict[datetime, int]:
    """Every bucket start from start to end, with its position."""
    count = int((end - start) / timedelta(minutes=BUCKET_MINUTES)) + 1
    return {start + timedelta(minutes=BUCKET_MINUTES * i): i for i in range(max(count, 0))}
