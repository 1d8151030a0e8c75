"""The supervisors' live dashboard: its figures and the conversations behind each (pushing is in `push`).

Changes only mark the dashboard stale (one Redis SET). A background task in
the web process pushes a fresh snapshot to the `dashboard` room at most every
DASHBOARD_PUSH_SECONDS while something changed, and every PERIODIC_SECONDS
regardless (waiting ages and SLA risk move with the clock). Its slower figures
(oldest wait, reply-time percentiles, handled today, handle times) are recomputed at most
every DASHBOARD_SLOW_SECONDS. So a burst of a thousand posts costs one
snapshot, not a thousand rounds of COUNT(*).
"""

import logging
import statistics
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from routing.spikes import BUCKET_MINUTES, BUCKETS_PER_DAY
from workspace.errors import NotFound, ValidationError
from workspace.extensions import db
from workspace.live import presence
from workspace.models import (
    ACTIVE_STATUSES,
    Agent,
    Conversation,
    Incident,
    Queue,
    VolumeCount,
    is_id,
    queue_members,
    utcnow,
)
from workspace.models.counts import AT_RISK_STATES, kept_counts
from workspace.serializers import SERIALIZED, serialize_incident, timestamp
from workspace.services import satisfaction
from workspace.services.conversations.queues import ORDER, first_in_order
from workspace.services.supervision import incidents as incident_service
from workspace.services.supervision.volume import NEGATIVE_BELOW, bucket_of

log = logging.getLogger(__name__)

# The conversations behind a number: at most this many per request.
DRILLDOWN_LIMIT = 200
QUEUE_METRICS = ("depth", "open", "pending", "unassigned", "at_risk", "breached", "oldest")
# Satisfaction figures on the dashboard cover the survey answers of this many days.
CSAT_DAYS = 7
METRICS = QUEUE_METRICS + ("volume", "negative", "first_reply", "agent_open", "agent_pending", "agent_handled",
                           "incident")


def day_start(moment: datetime) -> datetime:
    """Midnight (UTC) of the moment's day: "today" on the dashboard."""
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def snapshot(now: datetime | None = None) -> dict:
    """Every figure on the dashboard; the slower ones come from a cache at most DASHBOARD_SLOW_SECONDS old."""
    now = now or utcnow()
    cache = current_app.extensions.setdefault("dashboard_slow", {"at": 0.0, "data": None})
    if cache["data"] is None or time.monotonic() - cache["at"] >= current_app.config["DASHBOARD_SLOW_SECONDS"]:
        cache["data"] = {"first_reply": first_reply_times(now), "handling": handling_today(now),
                         "oldest": oldest_waiting(), "csat": satisfaction.summary(now - timedelta(days=CSAT_DAYS))}
        cache["at"] = time.monotonic()
    slow = cache["data"]
    volume, sentiment = charts(now)
    return {
        "generated_at": timestamp(now),
        "queues": queue_table(slow["oldest"], csat_by(slow["csat"], "queues")),
        "volume": volume,
        "sentiment": sentiment,
        "first_reply": slow["first_reply"],
        "agents": agent_table(slow["handling"], now, csat_by(slow["csat"], "agents")),
        "csat": {"days": CSAT_DAYS, **csat_figures(slow["csat"])},
        "incidents": incident_list(),
    }


def csat_figures(figures: dict | None) -> dict:
    """The satisfaction columns of a row: average score and number of answers (None and 0 without any)."""
    figures = figures or {}
    return {"csat_average": figures.get("average"), "csat_answers": figures.get("answers", 0)}


def csat_by(summary: dict, key: str) -> dict[int, dict]:
    """satisfaction.summary's figures per agent or queue ("agents" or "queues"), by id."""
    return {row["id"]: row for row in summary[key]}


def queue_table(oldest: dict[int, datetime | None], csat: dict[int, dict] | None = None) -> list[dict]:
    """Per queue: depth (open + pending), open, pending, unassigned, at risk, breached, the oldest wait, and the
    satisfaction answers of the last CSAT_DAYS days (average and count).

    At risk and breached are the SLA engine's own `sla_status` of the open
    conversations (set by the watcher at each policy's at-risk fraction and
    due time), so the dashboard and the console's badges always agree.

    Args:
        oldest: the oldest open wait per queue id, as `oldest_waiting` returns it.
    """
    queues = db.session.scalars(sa.select(Queue).order_by(Queue.name)).all()
    rows = {queue.id: {"queue": queue.slug, "name": queue.name, "depth": 0, "open": 0, "pending": 0,
                       "unassigned": 0, "at_risk": 0, "breached": 0,
                       "oldest_waiting_since": timestamp(oldest.get(queue.id)),
                       **csat_figures((csat or {}).get(queue.id))} for queue in queues}
    # The kept counts (models/counts.py): a few rows per queue, however large the backlog.
    for queue_id, kept in kept_counts(list(rows)).items():
        rows[queue_id].update(kept, depth=kept["open"] + kept["pending"])
    # The SLA-status index answers this alone, reading only the at-risk and breached rows.
    at_risk = db.session.execute(
        sa.select(Conversation.queue_id, Conversation.sla_status, sa.func.count())
        .where(Conversation.sla_status.in_(AT_RISK_STATES), Conversation.status == "open",
               Conversation.queue_id.in_(list(rows)))
        .group_by(Conversation.queue_id, Conversation.sla_status))
    for queue_id, state, total in at_risk:
        rows[queue_id][state] = total
    return list(rows.values())


def oldest_waiting() -> dict[int, datetime | None]:
    """When the longest-waiting open conversation of each queue began waiting.

    One look per queue at the first entry of its open rows in the
    (queue_id, status, waiting_since) index, however many are open.
    """
    first = (sa.select(sa.func.min(Conversation.waiting_since))
             .where(Conversation.queue_id == Queue.id, Conversation.status == "open").scalar_subquery())
    return {queue_id: moment for queue_id, moment in db.session.execute(sa.select(Queue.id, first)).all()
            if moment is not None}


def charts(now: datetime) -> tuple[dict, dict]:
    """The volume and sentiment charts, both from one read of the last day's rollup rows."""
    end = bucket_of(now)
    start = end - timedelta(minutes=BUCKET_MINUTES * (BUCKETS_PER_DAY - 1))
    first_hour = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=23)
    rows = db.session.execute(
        sa.select(VolumeCount.bucket_start, VolumeCount.key, VolumeCount.posts, VolumeCount.sentiment_sum,
                  VolumeCount.negative)
        .where(VolumeCount.kind == "queue", VolumeCount.bucket_start >= min(start, first_hour)))
    series: dict[str, list[int]] = {}
    hours = [{"hour": timestamp(first_hour + timedelta(hours=i)), "posts": 0, "sentiment_sum": 0.0, "negative": 0}
             for i in range(24)]
    step = timedelta(minutes=BUCKET_MINUTES)
    for bucket, key, posts, total, negative in rows:
        if start <= bucket <= end:
            series.setdefault(key, [0] * BUCKETS_PER_DAY)[(bucket - start) // step] += posts
        hour = (bucket - first_hour) // timedelta(hours=1)
        if 0 <= hour < 24:
            hours[hour]["posts"] += posts
            hours[hour]["sentiment_sum"] += total
            hours[hour]["negative"] += negative
    for hour in hours:
        total = hour.pop("sentiment_sum")
        hour["mean"] = round(total / hour["posts"], 3) if hour["posts"] else None
    return {"start": timestamp(start), "bucket_minutes": BUCKET_MINUTES, "series": series}, {"hours": hours}


def reply_seconds(since: datetime, until: datetime) -> list[float]:
    """Seconds from first post to first reply of the conversations first answered in [since, until)."""
    query = sa.select(Conversation.created_at, Conversation.first_reply_at).where(
        Conversation.first_reply_at >= since, Conversation.first_reply_at < until)
    return [max(0.0, (replied - created).total_seconds()) for created, replied in db.session.execute(query)]


def first_reply_times(now: datetime) -> dict:
    """First-reply time p50/p90 so far today, against the same hours of the same weekday last week."""
    today = day_start(now)
    week = timedelta(days=7)

    def figures(values):
        return {"count": len(values), "p50": _rounded(percentile(values, 50)), "p90": _rounded(percentile(values, 90))}

    return {"today": figures(reply_seconds(today, now)), "last_week": figures(reply_seconds(today - week, now - week))}


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def handling_today(now: datetime) -> dict[int, dict]:
    """Per agent: conversations resolved today and the median time from first post to resolution."""
    durations: dict[int, list[float]] = {}
    # Status is checked here, not in SQL: given it, SQLite reads every resolved row by the status index.
    rows = db.session.execute(sa.select(Conversation.assignee_id, Conversation.created_at, Conversation.resolved_at,
                                        Conversation.status)
                              .where(Conversation.resolved_at >= day_start(now), Conversation.assignee_id.is_not(None)))
    for agent_id, created, resolved, status in rows:
        if status == "resolved":
            durations.setdefault(agent_id, []).append((resolved - created).total_seconds())
    return {agent_id: {"handled_today": len(values), "median_handle_seconds": round(statistics.median(values), 1)}
            for agent_id, values in durations.items()}


def agent_table(handling: dict[int, dict], now: datetime | None = None, csat: dict[int, dict] | None = None
                ) -> list[dict]:
    """Per active agent: presence status and since when, open load against capacity, handled today, handle time,
    and the satisfaction answers of the last CSAT_DAYS days on conversations they had (average and count).

    Status is the presence heartbeat's (online, away, offline), the one
    automatic assignment trusts. `open` counts what capacity limits (open
    conversations assigned to them, every queue); `pending` those waiting on
    the customer; `queues` their load and capacity in each queue they work
    (capacity None: no limit there).
    """
    now = now or utcnow()
    agents = db.session.scalars(sa.select(Agent).where(Agent.active.is_(True)).order_by(Agent.name)).all()
    queue_slugs = dict(db.session.execute(sa.select(Queue.id, Queue.slug)).all())
    load: dict[tuple[int, int], int] = {}  # open, by agent and queue
    totals: dict[tuple[int, str], int] = {}  # by agent and status
    for agent_id, queue_id, status, count in db.session.execute(  # each agent's rows of the assignee index only
            sa.select(Conversation.assignee_id, Conversation.queue_id, Conversation.status, sa.func.count())
            .where(Conversation.assignee_id.in_([agent.id for agent in agents]),
                   Conversation.status.in_(("open", "pending")), Conversation.queue_id.is_not(None))
            .group_by(Conversation.assignee_id, Conversation.queue_id, Conversation.status)):
        if status == "open":
            load[agent_id, queue_id] = count
        totals[agent_id, status] = totals.get((agent_id, status), 0) + count
    memberships: dict[int, list[dict]] = {}
    for agent_id, queue_id, capacity in db.session.execute(
            sa.select(queue_members.c.agent_id, queue_members.c.queue_id, queue_members.c.capacity)):
        memberships.setdefault(agent_id, []).append(
            {"queue": queue_slugs[queue_id], "open": load.get((agent_id, queue_id), 0), "capacity": capacity})
    states = presence.agent_states(now.timestamp())
    rows = []
    for agent in agents:
        state = states.get(agent.id)
        rows.append({
            "id": agent.id, "name": agent.name, "role": agent.role,
            "status": state.status if state else "offline",
            "status_since": timestamp(datetime.fromtimestamp(state.since, UTC)) if state else None,
            "open": totals.get((agent.id, "open"), 0), "pending": totals.get((agent.id, "pending"), 0),
            "capacity": agent.capacity,
            "queues": sorted(memberships.get(agent.id, []), key=lambda m: m["queue"]),
            **handling.get(agent.id, {"handled_today": 0, "median_handle_seconds": None}),
            **csat_figures((csat or {}).get(agent.id))})
    return rows


def incident_list() -> list[dict]:
    """Open incidents, and those resolved in the last day, with their conversation counts."""
    since = utcnow() - timedelta(days=1)
    rows = db.session.scalars(sa.select(Incident).where(
        sa.or_(Incident.status == "open", Incident.resolved_at >= since)).order_by(Incident.id.desc()).limit(50)).all()
    counts = incident_service.conversation_counts([incident.id for incident in rows])
    return [serialize_incident(incident, counts[incident.id]) for incident in rows]


def drilldown(metric: str, *, queue: str | None = None, agent_id: int | None = None, bucket: str | None = None,
              incident_id: int | None = None, now: datetime | None = None) -> list[Conversation]:
    """The conversations behind one number on the dashboard.

    Args:
        metric: one of METRICS.
        queue: the queue slug (queue metrics and volume need it; first_reply may use it).
        agent_id: the agent (agent_open, agent_pending, agent_handled).
        bucket: ISO start of the 5-minute bucket (volume) or hour (negative).
        incident_id: the incident (incident).
        now: the time "now" and "today" refer to.

    Returns:
        Up to DRILLDOWN_LIMIT conversations.
    """
    now = now or utcnow()
    if metric not in METRICS:
        raise ValidationError(f"metric: must be one of {', '.join(METRICS)}", code="invalid_field")
    query = sa.select(Conversation).options(*SERIALIZED)
    queue_row = None
    if queue is not None:
        queue_row = db.session.scalar(sa.select(Queue).where(Queue.slug == queue))
        if queue_row is None:
            raise NotFound(f"queue: no queue named {queue!r}")
        query = query.where(Conversation.queue_id == queue_row.id)
    elif metric in QUEUE_METRICS + ("volume",):
        raise ValidationError("queue: is required for this metric", code="invalid_field")
    if metric == "depth":  # open and pending: two ranges of the queue-order index, merged
        ids = first_in_order([[Conversation.queue_id == queue_row.id, Conversation.status == status]
                              for status in ("open", "pending")], DRILLDOWN_LIMIT)
        found = {c.id: c for c in db.session.scalars(query.where(Conversation.id.in_(ids))).unique()}
        return [found[i] for i in ids if i in found]
    query = _filter(query, metric, now=now, agent_id=agent_id, bucket=bucket, incident_id=incident_id)
    return db.session.scalars(query.limit(DRILLDOWN_LIMIT)).unique().all()


def _filter(query, metric: str, *, now, agent_id, bucket, incident_id):
    """Narrow the conversations to those a metric counts, in the order a supervisor wants them."""
    if metric in QUEUE_METRICS:
        query = query.where(Conversation.status == ("pending" if metric == "pending" else "open"))
        if metric == "unassigned":
            query = query.where(Conversation.assignee_id.is_(None))
        if metric in AT_RISK_STATES:
            query = query.where(Conversation.sla_status == metric)
        if metric == "oldest":
            return query.order_by(Conversation.waiting_since, Conversation.id)
        return query.order_by(*ORDER)
    if metric in ("volume", "negative"):
        start = _moment(bucket, "bucket")
        span = timedelta(minutes=BUCKET_MINUTES) if metric == "volume" else timedelta(hours=1)
        query = query.where(Conversation.last_message_at >= start, Conversation.last_message_at < start + span)
        if metric == "negative":
            query = query.where(Conversation.explanation["sentiment"].as_float() < NEGATIVE_BELOW)
        return query.order_by(Conversation.last_message_at, Conversation.id)
    if metric == "first_reply":
        return query.where(Conversation.first_reply_at >= day_start(now)).order_by(Conversation.first_reply_at.desc())
    if metric in ("agent_open", "agent_pending", "agent_handled"):
        if not is_id(agent_id):
            raise ValidationError("agent_id: is required for this metric", code="invalid_field")
        query = query.where(Conversation.assignee_id == agent_id)
        if metric in ("agent_open", "agent_pending"):
            return query.where(Conversation.status == metric.removeprefix("agent_")).order_by(*ORDER)
        return query.where(Conversation.status == "resolved", Conversation.resolved_at >= day_start(now)).order_by(
            Conversation.resolved_at.desc())
    incident = incident_service.find(incident_id) if is_id(incident_id) else None
    if incident is None:
        raise ValidationError("incident_id: is required for this metric", code="invalid_field")
    ids = incident_service.incident_conversation_ids(incident, active_only=False)
    return query.where(Conversation.id.in_(ids)).order_by(
        sa.case((Conversation.status.in_(ACTIVE_STATUSES), 0), else_=1), Conversation.id)


def _moment(value, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"{name}: an ISO 8601 time such as 2026-12-01T09:05:00Z", code="invalid_field")
    if moment.tzinfo is None:
        raise ValidationError(f"{name}: give a time zone (Z for UTC)", code="invalid_field")
    return moment
