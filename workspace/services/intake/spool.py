"""The SMTP spool: receive now, read later (as every MTA and Rails' ActionMailbox do).

The listener only writes what it received, raw, into `spooled_emails` (one row
per channel the envelope is addressed to) and answers 250 once that commit is
done: from then on the message is ours and survives a crash. A worker then
reads each row exactly once (`read_spooled`): parsing, threading, the flood
check, bounces and attachments go through the same `stage_mail` as mail from
IMAP and the webhook, and the row is deleted in the transaction that stores the
message, so it is never stored twice nor lost. A group of rows is read in one
transaction; if that fails, each is read on its own, so one bad message fails
only itself. A message that cannot be read (or fails SPOOL_ATTEMPTS times) is
kept as suspended mail for an admin with the reason. Rows whose job was lost
(Redis down, a worker killed) are handed to a job again by the sweeper.
"""

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask import Flask
from redis.exceptions import RedisError
from rq.timeouts import JobTimeoutException
from sqlalchemy.exc import IntegrityError

from workspace.errors import SwitchboardError
from workspace.extensions import db
from workspace.live import signals
from workspace.models import SpooledEmail, utcnow
from workspace.services.intake.group_commit import GroupCommitter
from workspace.services.intake.mail import CHANNEL_FIELDS, CHANNELS, hold_mail, read_mail, stage_mail
from workspace.services.intake.store import ATTEMPTS

log = logging.getLogger(__name__)

SPOOL = SpooledEmail.__table__
# Failed reads of one message before it is suspended for an admin instead of tried again.
SPOOL_ATTEMPTS = 3
# Spooled messages handed to one job by the sweeper.
SPOOL_BATCH = 200
# Stored in the row when a read fails: enough of the error to tell why.
ERROR_CHARS = 500
# Raw mail one read holds in memory at most (parsed, it takes a few times that).
READ_BYTES = 64 * 1024 * 1024
# After a failure to hand spooled mail to a job (Redis down), the listener stops trying for this long: each
# try could wait seconds for Redis with every session of its group unanswered, and the sweeper hands on
# whatever was spooled meanwhile.
ENQUEUE_PAUSE_SECONDS = 10.0
# Failures that say nothing about the message (the database or Redis not answering, the job's time up):
# the job fails and RQ retries it, no attempt counted, so an outage never suspends good mail.
NOT_THE_MESSAGE = (RedisError, sa.exc.OperationalError, sa.exc.InterfaceError, JobTimeoutException)


class SpoolReadFailed(Exception):
    """Some spooled messages could not be stored this time (each stays spooled, its failure counted)."""


@dataclass(frozen=True, slots=True)
class Received:
    """One message as the listener received it for one channel: its envelope and raw bytes."""

    channel_id: int
    sender: str
    recipients: list[str]
    raw: bytes


class SpoolCommitter(GroupCommitter):
    """Spools the mail of concurrent SMTP sessions in one transaction: each work is one envelope's messages
    (one per channel it is addressed to), answered with their spool ids only once committed.

    `on_committed(ids)` is called with a whole group's ids once committed, before its sessions are answered
    (the listener hands them to a job there: one job per group, queued by the time the sender hears 250 while
    Redis is up; a failure to enqueue is logged and never turns into a 451, since the mail is already
    spooled and the sweeper hands it on; after one, it stops trying for ENQUEUE_PAUSE_SECONDS).
    """

    def __init__(self, app: Flask, on_committed=None):
        super().__init__(app)
        self.on_committed = on_committed
        self.paused_until = 0.0

    def weight(self, work: list[Received]) -> int:
        """An envelope weighs its messages."""
        return len(work)

    def store_alone(self, work: list[Received]) -> list[int]:
        """Spool one envelope's messages in their own transaction."""
        (ids,) = spool_received([work])
        db.session.commit()
        return ids

    def stage_group(self, works: list[list[Received]]) -> list[list[int]]:
        """Insert every envelope's messages in the current transaction; their spool ids, per envelope."""
        return spool_received(works)

    def committed(self, results: list[list[int]]) -> None:
        """Hand the group's ids on (see the class docstring)."""
        ids = [spool_id for result in results for spool_id in result]
        if self.on_committed is None or not ids or time.monotonic() < self.paused_until:
            return
        try:
            self.on_committed(ids)
        except Exception:  # noqa: BLE001 - the mail is spooled and answered; the sweeper hands it on
            self.paused_until = time.monotonic() + ENQUEUE_PAUSE_SECONDS
            log.warning("could not hand spooled mail %s to a job; the sweeper will (not trying again for %d s)",
                        ids[:10], ENQUEUE_PAUSE_SECONDS, exc_info=True)


def spool_received(works: list[list[Received]]) -> list[list[int]]:
    """Insert the envelopes' messages in one statement; their spool ids, per envelope."""
    rows = [{"channel_id": r.channel_id, "sender": r.sender[:254], "recipients": list(r.recipients),
             "raw": r.raw, "received_at": utcnow(), "attempts": 0}
            for work in works for r in work]
    ids = iter(db.session.execute(sa.insert(SPOOL).returning(SPOOL.c.id, sort_by_parameter_order=True),
                                  rows).scalars().all())
    return [[next(ids) for _ in work] for work in works]


@dataclass
class SpoolReport:
    """What one read of spooled mail did: the conversations it stored mail in and counts."""

    conversation_ids: list[int] = field(default_factory=list)
    stored: int = 0
    duplicates: int = 0
    suspended: int = 0
    unreadable: int = 0
    failed: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        """The report as a job's result."""
        return {"stored": self.stored, "duplicates": self.duplicates, "suspended": self.suspended,
                "unreadable": self.unreadable, "failed": self.failed}


def read_spooled(spool_ids: list[int]) -> SpoolReport:
    """Read and store these spooled messages, each exactly once; committed before this returns.

    Messages never tried before are stored together in one transaction; if that
    fails, and for messages that failed before, each is stored in a transaction
    of its own. Ids already read (by another job) are skipped. A message that
    fails on its own has the failure counted on its row and stays for a later
    job (listed in `failed`) until SPOOL_ATTEMPTS, then it is suspended.
    """
    report = SpoolReport()
    for chunk in _chunks(sorted(set(spool_ids))):
        _read_chunk(chunk, report)
    if report.conversation_ids:
        signals.posts_stored.send(None, ids=sorted(set(report.conversation_ids)))
    return report


def _chunks(spool_ids: list[int]) -> list[list[int]]:
    """The ids still spooled, in runs of at most READ_BYTES of raw mail (a bigger message alone): a job of a
    thousand 25 MB messages must not hold them all in memory at once."""
    sizes = db.session.execute(sa.select(SPOOL.c.id, sa.func.length(SPOOL.c.raw)).where(SPOOL.c.id.in_(spool_ids))
                               .order_by(SPOOL.c.id)).all()
    db.session.rollback()
    chunks, run, total = [], [], 0
    for spool_id, size in sizes:
        if run and total + size > READ_BYTES:
            chunks.append(run)
            run, total = [], 0
        run.append(spool_id)
        total += size
    return chunks + [run] if run else chunks


def _read_chunk(spool_ids: list[int], report: SpoolReport) -> None:
    """Read one run of spooled messages into the report (see read_spooled)."""
    rows = _load(spool_ids)
    fresh = [row for row in rows if row.attempts == 0]
    if len(fresh) > 1:
        try:
            group = SpoolReport()
            _stage(_parse(fresh), group)
            db.session.commit()
            _merge(report, group)
            rows = [row for row in rows if row.attempts > 0]
        except NOT_THE_MESSAGE:
            db.session.rollback()
            raise
        except Exception:  # noqa: BLE001 - nothing of the group was stored: each is stored on its own below
            db.session.rollback()
            log.info("storing %d spooled messages together failed; storing each alone", len(fresh), exc_info=True)
    for row in rows:
        _store_alone(row, report)


def _load(spool_ids: list[int]) -> list:
    """The rows of these ids still spooled (id, channel_id, sender, recipients, raw, attempts)."""
    rows = db.session.execute(sa.select(SPOOL.c.id, SPOOL.c.channel_id, SPOOL.c.sender, SPOOL.c.recipients,
                                        SPOOL.c.raw, SPOOL.c.attempts).where(SPOOL.c.id.in_(spool_ids))
                              .order_by(SPOOL.c.id)).all()
    db.session.rollback()
    return rows


def _parse(rows: list) -> list[tuple]:
    """Parse spooled rows before any write (on SQLite parsing under the write lock would hold up the
    listener); each (row, ReadMail) or (row, the SwitchboardError that makes it unreadable)."""
    channels = {channel.id: channel for channel in db.session.connection().execute(
        CHANNEL_FIELDS.where(CHANNELS.c.id.in_({row.channel_id for row in rows})))}
    db.session.rollback()
    parsed = []
    for row in rows:
        try:
            parsed.append((row, read_mail(channels[row.channel_id], row.raw, row.recipients)))
        except SwitchboardError as error:  # malformed, or over a limit lowered since: ours since the 250
            parsed.append((row, error))
    return parsed


def _stage(parsed: list[tuple], report: SpoolReport) -> None:
    """Claim the parsed rows still spooled and write what they hold into the current transaction: each read
    message through stage_mail, each unreadable one kept as suspended mail."""
    claimed = _claim([row.id for row, _ in parsed])
    messages = []
    for row, read in parsed:
        if row.id not in claimed:
            continue  # another job read it meanwhile
        if isinstance(read, SwitchboardError):
            _hold(row, f"could not be read: {read.message}")
            report.unreadable += 1
        else:
            messages.append(read)
    for outcome in stage_mail(messages, True) if messages else ():
        if outcome.status == "stored":
            report.stored += 1
            report.conversation_ids.append(outcome.conversation_id)
        elif outcome.status == "duplicate":
            report.duplicates += 1
        else:
            report.suspended += 1


def _store_alone(row, report: SpoolReport) -> None:
    """Store one spooled message in its own transaction (a concurrent insert's IntegrityError is retried)."""
    for attempt in range(ATTEMPTS):
        one = SpoolReport()
        try:
            _stage(_parse([row]), one)
            db.session.commit()
            _merge(report, one)
            return
        except IntegrityError as error:
            db.session.rollback()
            if attempt == ATTEMPTS - 1:
                _failed(row, error, report)
        except NOT_THE_MESSAGE:
            db.session.rollback()
            raise
        except Exception as error:  # noqa: BLE001 - counted on the row; suspended once it keeps failing
            db.session.rollback()
            log.warning("storing spooled message %d failed", row.id, exc_info=True)
            _failed(row, error, report)
            return


def _claim(spool_ids: list[int]) -> set[int]:
    """Delete these spooled rows in the current transaction; the ids it deleted. Only the transaction that
    deletes a row stores its message, so no two jobs both do: on PostgreSQL rows another job holds are
    skipped (SKIP LOCKED); on SQLite the delete waits for the other's commit and then finds them gone."""
    locked = sa.select(SPOOL.c.id).where(SPOOL.c.id.in_(spool_ids)).with_for_update(skip_locked=True)
    return set(db.session.scalars(sa.delete(SPOOL).where(SPOOL.c.id.in_(locked.scalar_subquery()))
                                  .returning(SPOOL.c.id)).all())


def _failed(row, error: Exception, report: SpoolReport) -> None:
    """Count a failed read on the row; at SPOOL_ATTEMPTS keep the message as suspended mail instead."""
    reason = f"{type(error).__name__}: {error}"[:ERROR_CHARS]
    attempts = db.session.execute(sa.update(SPOOL).where(SPOOL.c.id == row.id).values(
        attempts=SPOOL.c.attempts + 1, last_error=reason).returning(SPOOL.c.attempts)).scalar()
    if attempts is not None and attempts >= SPOOL_ATTEMPTS:
        if _claim([row.id]):
            _hold(row, f"could not be stored after {attempts} attempts: {reason}")
            report.unreadable += 1
    elif attempts is not None:
        report.failed.append(row.id)
    db.session.commit()


def _hold(row, reason: str) -> None:
    """Keep a spooled message whole as suspended mail, keyed by its content: the same message spooled twice
    (a sender's retry) is held once."""
    hold_mail(row.channel_id, "spooled-" + hashlib.sha256(row.raw).hexdigest(), row.sender, "", row.raw, reason)


def _merge(report: SpoolReport, part: SpoolReport) -> None:
    """Add a part's conversations and counts to the report."""
    report.conversation_ids += part.conversation_ids
    report.stored += part.stored
    report.duplicates += part.duplicates
    report.suspended += part.suspended
    report.unreadable += part.unreadable


def waiting_since(cutoff: datetime, batch_size: int = SPOOL_BATCH) -> list[list[int]]:
    """The ids of spooled messages received before cutoff, in batches (the sweeper's: their job was lost,
    or is late)."""
    ids = db.session.scalars(sa.select(SPOOL.c.id).where(SPOOL.c.received_at <= cutoff)
                             .order_by(SPOOL.c.id)).all()
    db.session.rollback()
    return [list(ids[start:start + batch_size]) for start in range(0, len(ids), batch_size)]
