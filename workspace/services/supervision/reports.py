"""The weekly report: volumes, SLA hit rates, reply times, top topics and sentiment for one ISO week."""

import re
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from workspace.errors import ValidationError
from workspace.extensions import db
from workspace.models import TARGETS, Agent, Conversation, Queue, SlaOutcome, VolumeCount, utcnow
from workspace.services import satisfaction
from workspace.services.supervision.dashboard import percentile

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
TOP = 10
# A finished week's report is kept this long per web process: its figures no longer change, and
# computing one reads a week of rows (a supervisor's reloads and prints would each hold the loop).
FINISHED_WEEK_SECONDS = 600
# At most this many finished weeks are kept per process.
FINISHED_WEEKS_KEPT = 12


def parse_week(value: str | None, now: datetime | None = None) -> datetime:
    """The Monday 00:00 UTC that starts an ISO week like 2026-W48; by default the last complete week."""
    now = now or utcnow()
    if not value:
        this_monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
        return this_monday - timedelta(weeks=1)
    match = WEEK.match(value)
    try:
        if match is None:
            raise ValueError(value)
        return datetime.fromisocalendar(int(match[1]), int(match[2]), 1).replace(tzinfo=UTC)
    except ValueError:
        raise ValidationError("week: an ISO week such as 2026-W48", code="invalid_field")


def default_week(now: datetime | None = None) -> datetime:
    """The week the report opens on: the last complete one, or the week under way when the last saw no posts
    (a new install, a freshly loaded demo), so the first look at the report is never an empty page."""
    now = now or utcnow()
    last = parse_week(None, now)
    had_posts = db.session.scalar(sa.select(VolumeCount.bucket_start).where(
        VolumeCount.bucket_start >= last, VolumeCount.bucket_start < last + timedelta(weeks=1)).limit(1))
    return last if had_posts is not None else last + timedelta(weeks=1)


def week_label(start: datetime) -> str:
    """The ISO name of the week starting at `start`, e.g. 2026-W48."""
    year, week, _ = start.isocalendar()
    return f"{year}-W{week:02d}"


def weekly_report(start: datetime, now: datetime | None = None) -> dict:
    """Every figure of the weekly report for the week starting at `start` (SLA hit rates: see `_sla`).

    A finished week's report is computed once per FINISHED_WEEK_SECONDS in each process; the
    current week's every time.
    """
    now = now or utcnow()
    if start + timedelta(weeks=1) > now:
        return _compute(start, now)
    kept = current_app.extensions.setdefault("weekly_reports", {})
    entry = kept.pop(start, None)  # put back last: the dict's order is least recently read first
    if entry is None or time.monotonic() - entry[0] >= FINISHED_WEEK_SECONDS:
        entry = (time.monotonic(), _compute(start, now))
    kept[start] = entry
    if len(kept) > FINISHED_WEEKS_KEPT:
        del kept[next(iter(kept))]
    return entry[1]


def _compute(start: datetime, now: datetime) -> dict:
    """The weekly report's figures, read from the rollups, the SLA outcomes and the week's first replies."""
    end = start + timedelta(weeks=1)
    days = [start + timedelta(days=i) for i in range(7)]
    return {
        "week": week_label(start), "start": start, "end": end, "days": days,
        "previous": week_label(start - timedelta(weeks=1)), "next": week_label(end) if end <= now else None,
        "volume": _daily_volume(start, end),
        "sla": _sla(start, min(end, now)),
        "topics": {kind: _top(kind, start, end) for kind in ("queue", "tag", "label")},
        "satisfaction": _satisfaction(start, end),
    }


def _satisfaction(start: datetime, end: datetime) -> dict:
    """The week's survey answers: average, count and share of 4s and 5s, overall and per queue and agent (by name,
    best average first)."""
    figures = satisfaction.summary(start, end)
    names = {"queues": dict(db.session.execute(sa.select(Queue.id, Queue.slug)).all()),
             "agents": dict(db.session.execute(sa.select(Agent.id, Agent.name)).all())}
    by = {key: sorted(({**row, "name": names[key].get(row["id"], "?")} for row in figures[key]),
                      key=lambda row: (-row["average"], row["name"])) for key in ("queues", "agents")}
    return {"answers": figures["answers"], "average": figures["average"], "satisfied": figures["satisfied"], **by}


def _daily_volume(start: datetime, end: datetime) -> dict:
    """Posts per queue per day, and per day: posts, mean sentiment and the share that was negative."""
    per_queue: dict[str, list[int]] = {}
    per_day = [{"posts": 0, "sentiment_sum": 0.0, "negative": 0} for _ in range(7)]
    rows = db.session.execute(
        sa.select(VolumeCount.bucket_start, VolumeCount.key, VolumeCount.posts, VolumeCount.sentiment_sum,
                  VolumeCount.negative)
        .where(VolumeCount.kind == "queue", VolumeCount.bucket_start >= start, VolumeCount.bucket_start < end))
    for bucket, key, posts, total, negative in rows:
        day = (bucket - start).days
        per_queue.setdefault(key, [0] * 7)[day] += posts
        per_day[day]["posts"] += posts
        per_day[day]["sentiment_sum"] += total
        per_day[day]["negative"] += negative
    for day in per_day:
        posts = day["posts"]
        day["mean_sentiment"] = round(day.pop("sentiment_sum") / posts, 3) if posts else None
        day["negative_share"] = round(day["negative"] / posts, 3) if posts else None
    return {"queues": dict(sorted(per_queue.items())), "days": per_day, "total": sum(d["posts"] for d in per_day)}


def _sla(start: datetime, until: datetime) -> dict:
    """Per queue and overall: each target's recorded hits and misses and hit rate, and first-reply p50/p90 (seconds).

    Counts the SLA engine's own outcomes (`sla_outcomes`), so the policies,
    business hours and pauses in force at the time are the ones judged. An
    outcome belongs to the week in which it was decided: a hit when the work
    was done, a miss when its target passed (even if still undone).
    """
    queues = dict(db.session.execute(sa.select(Queue.id, Queue.slug)).all())
    figures: dict[str, dict] = {}

    def row(slug):
        return figures.setdefault(slug, {"targets": {target: {"met": 0, "missed": 0} for target in TARGETS},
                                         "answered": 0, "seconds": []})

    decided = sa.or_(
        sa.and_(SlaOutcome.met, SlaOutcome.completed_at >= start, SlaOutcome.completed_at < until),
        sa.and_(~SlaOutcome.met, SlaOutcome.due_at >= start, SlaOutcome.due_at < until))
    outcomes = db.session.execute(
        sa.select(SlaOutcome.queue_id, SlaOutcome.target, SlaOutcome.met, sa.func.count())
        .where(SlaOutcome.queue_id.in_(list(queues)), decided)
        .group_by(SlaOutcome.queue_id, SlaOutcome.target, SlaOutcome.met))
    for queue_id, target, met, count in outcomes:
        for slug in (queues[queue_id], "all"):
            row(slug)["targets"][target]["met" if met else "missed"] += count
    answered = db.session.execute(
        sa.select(Conversation.queue_id, Conversation.created_at, Conversation.first_reply_at)
        .where(Conversation.first_reply_at >= start, Conversation.first_reply_at < until))
    for queue_id, created, replied in answered:
        if queue_id in queues:
            for slug in (queues[queue_id], "all"):
                row(slug)["answered"] += 1
                row(slug)["seconds"].append(max(0.0, (replied - created).total_seconds()))
    row("all")
    for entry in figures.values():
        for target in entry["targets"].values():
            judged = target["met"] + target["missed"]
            target["hit_rate"] = round(target["met"] / judged, 3) if judged else None
        seconds = entry.pop("seconds")
        entry["p50"], entry["p90"] = percentile(seconds, 50), percentile(seconds, 90)
    return dict(sorted(figures.items(), key=lambda item: (item[0] == "all", item[0])))


def _top(kind: str, start: datetime, end: datetime) -> list[dict]:
    """The most frequent keys of a kind (queue, tag, model label) in the week, summed in SQL."""
    total = sa.func.sum(VolumeCount.posts).label("posts")
    rows = db.session.execute(
        sa.select(VolumeCount.key, total, sa.func.sum(VolumeCount.negative))
        .where(VolumeCount.kind == kind, VolumeCount.bucket_start >= start, VolumeCount.bucket_start < end)
        .group_by(VolumeCount.key).order_by(total.desc(), VolumeCount.key).limit(TOP))
    return [{"key": key, "posts": int(posts), "negative": int(negative or 0)} for key, posts, negative in rows]
