"""Live queue counts: kept counts read as a few rows, at-risk as a bounded index scan.

Open, unassigned and pending are kept by database triggers (see
models/queue_count.py): reading them sums a handful of rows per queue, however
many conversations there are. Folding keeps it a handful; recounting repairs
them from COUNT(*) if they were ever wrong.

At risk is the SLA engine's verdict (services/service_levels/clocks.py): open conversations
whose `sla_status` the watcher has set to at_risk or breached, the same rule
the dashboard uses. The watcher's UPDATEs of sla_status are not changes the
count triggers watch, so it is counted when asked, from the
(sla_status, status, queue_id) index, and stops after AT_RISK_CAP rows: its
cost is bounded by the cap, not by the backlog; above the cap the console
shows "99+", when the exact figure no longer changes what anyone does.
"""


import sqlalchemy as sa

from workspace.extensions import db
from workspace.models import Conversation, QueueCount

KEPT = ("open", "unassigned", "pending")
# The SLA verdicts that count as at risk in the sidebar (and on the dashboard).
AT_RISK_STATES = ("at_risk", "breached")
# At-risk counting stops here per queue (the console shows "99+").
AT_RISK_CAP = 100
# A queue whose counts span more rows than this is folded into one row.
FOLD_AFTER = 50
# PostgreSQL advisory lock key that folding and recounting share.
FOLD_LOCK = 0x5B0C0

COUNTS = QueueCount.__table__


# Built once: building it per call cost ten times running it.
AT_RISK = sa.select(sa.func.count()).select_from(
    sa.select(sa.literal(1)).where(
        Conversation.sla_status.in_(AT_RISK_STATES), Conversation.status == "open",
        Conversation.queue_id == sa.bindparam("queue_id"),
    ).limit(sa.bindparam("cap", type_=sa.Integer)).subquery())
KEPT_SUMS = sa.select(COUNTS.c.queue_id, *(sa.func.sum(COUNTS.c[name]) for name in KEPT)).where(
    COUNTS.c.queue_id.in_(sa.bindparam("queue_ids", expanding=True))).group_by(COUNTS.c.queue_id)


def kept_counts(queue_ids: list[int]) -> dict[int, dict]:
    """Return the kept open, unassigned and pending counts for each queue id (a few rows each, no COUNT(*))."""
    counts = {queue_id: dict.fromkeys(KEPT, 0) for queue_id in queue_ids}
    if queue_ids:
        for queue_id, *values in db.session.connection().execute(KEPT_SUMS, {"queue_ids": list(queue_ids)}):
            counts[queue_id].update(zip(KEPT, map(int, values), strict=True))
    return counts


def queue_counts(queue_ids: list[int]) -> dict[int, dict]:
    """Return open, unassigned, pending and at-risk counts for each queue id."""
    counts = {queue_id: {**kept, "at_risk": 0} for queue_id, kept in kept_counts(queue_ids).items()}
    connection = db.session.connection()
    for queue_id in queue_ids:
        counts[queue_id]["at_risk"] = connection.execute(
            AT_RISK, {"queue_id": queue_id, "cap": AT_RISK_CAP}).scalar_one()
    return counts


def fold_counts() -> int:
    """Replace each queue's count rows by their sum where they have piled up; commits.

    The rows are taken with DELETE ... RETURNING, so a change committed
    meanwhile is either folded or left for next time, never lost or summed
    twice. Returns how many queues were folded.
    """
    crowded = db.session.scalars(sa.select(COUNTS.c.queue_id).group_by(COUNTS.c.queue_id)
                                 .having(sa.func.count() > FOLD_AFTER).order_by(COUNTS.c.queue_id)).all()
    if crowded:
        _exclude_recount()
    for queue_id in crowded:
        taken = db.session.execute(sa.delete(COUNTS).where(COUNTS.c.queue_id == queue_id)
                                   .returning(*(COUNTS.c[name] for name in KEPT))).all()
        totals = {name: sum(row[index] for row in taken) for index, name in enumerate(KEPT)}
        if any(totals.values()):
            db.session.execute(sa.insert(COUNTS).values(queue_id=queue_id, **totals))
    db.session.commit()
    return len(crowded)


def recount() -> dict[int, dict]:
    """Rebuild every queue's kept counts from COUNT(*) (a repair); commits.

    Returns the queues whose kept counts were wrong: {queue_id: {name: (kept, actual)}}.
    """
    if db.engine.dialect.name == "postgresql":
        # Hold conversation writes still, or a change committed between taking
        # the kept rows and counting would be counted twice.
        db.session.execute(sa.text("LOCK TABLE conversations IN SHARE MODE"))
    _exclude_recount()
    # On SQLite the delete opens the write transaction the count then runs in.
    taken = db.session.execute(sa.delete(COUNTS).returning(COUNTS.c.queue_id, *(COUNTS.c[n] for n in KEPT))).all()
    kept: dict[int, dict] = {}
    for queue_id, *values in taken:
        sums = kept.setdefault(queue_id, dict.fromkeys(KEPT, 0))
        for name, value in zip(KEPT, values, strict=True):
            sums[name] += value
    open_ = Conversation.status == "open"
    actual = {queue_id: dict(zip(KEPT, values, strict=True)) for queue_id, *values in db.session.execute(
        sa.select(Conversation.queue_id, sa.func.count(sa.case((open_, 1))),
                  sa.func.count(sa.case((open_ & Conversation.assignee_id.is_(None), 1))),
                  sa.func.count(sa.case((Conversation.status == "pending", 1))))
        .where(Conversation.queue_id.is_not(None), Conversation.status.in_(("open", "pending")))
        .group_by(Conversation.queue_id))}
    if actual:
        db.session.execute(sa.insert(COUNTS), [{"queue_id": queue_id, **values} for queue_id, values in actual.items()])
    db.session.commit()
    zero = dict.fromkeys(KEPT, 0)
    wrong = {}
    for queue_id in sorted(set(kept) | set(actual)):
        before, after = kept.get(queue_id, zero), actual.get(queue_id, zero)
        if before != after:
            wrong[queue_id] = {name: (before[name], after[name]) for name in KEPT if before[name] != after[name]}
    return wrong


def _exclude_recount() -> None:
    """On PostgreSQL, folding and recounting take turns (a fold's new row would escape a
    concurrent recount's delete and be counted twice); SQLite runs one writer anyway."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(FOLD_LOCK)))
