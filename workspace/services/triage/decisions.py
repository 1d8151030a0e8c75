"""Applying routing decisions to conversations (the worker side of the flow)."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

import routing
from routing import Decision, Post, RoutingSettings
from workspace.extensions import db
from workspace.live import signals
from workspace.live.changes import Changes
from workspace.models import TRIAGE, Conversation, Message, Priority, Queue, utcnow
from workspace.models.counts import fold_counts
from workspace.services import acknowledgements, assignment
from workspace.services.conversations.merging import follow_merges
from workspace.services.conversations.queues import PREVIEW_CHARS
from workspace.services.conversations.threads import latest_inbound, mail_recipients, message_texts, stored_times
from workspace.services.people.profiles import Facts, facts_for
from workspace.services.service_levels import clocks
from workspace.services.supervision import incidents, volume
from workspace.services.triage.classifier import current_model
from workspace.services.triage.rules import compiled_rules
from workspace.services.triage.weights import current_weights

# A conversation another worker routes between this job's read and its claim is read again,
# at most this many times (each time means yet another post came in meanwhile).
CLAIM_ROUNDS = 5


class RoutingContended(Exception):
    """Other workers kept routing these conversations first; RQ retries the job later."""


def route_conversations(conversation_ids: list[int]) -> dict:
    """Route every listed conversation that has an inbound post routing has not seen.

    Running it twice changes nothing the second time and emits no second event,
    and neither do two workers running it at once: each conversation is
    claimed with a conditional update on what this job read (see `claim`),
    so only one of them applies, counts and announces it; the other reads it
    again, in case it changed for a newer post.

    Args:
        conversation_ids: conversations to consider; unknown ids are ignored; a merged duplicate's
            new posts move on to (and route in) the conversation it was merged into.

    Returns:
        Counts of routed and skipped conversations.
    """
    routed, remaining = 0, follow_merges(list(conversation_ids))  # a merged duplicate's posts route where it went
    for _ in range(CLAIM_ROUNDS):
        done, remaining = _route_round(remaining)
        routed += done
        if not remaining:
            return {"routed": routed, "skipped": len(conversation_ids) - routed}
    raise RoutingContended(f"conversations {remaining} were routed elsewhere {CLAIM_ROUNDS} times in a row")


def claim(conversations: list[Conversation], latest: dict[int, int]) -> set[int]:
    """Mark conversations routed up to their latest post, only where no one else did since they were read.

    One UPDATE sets `routed_message_id` where it still holds the value this job
    read (a compare-and-set), in the caller's transaction. On PostgreSQL the
    rows are first locked in id order, so two jobs with overlapping batches
    queue behind each other instead of deadlocking; the second then finds the
    value changed. On SQLite the update holds the database's write lock.

    Args:
        conversations: the conversations this job means to route, as it read them.
        latest: each one's newest inbound message id.

    Returns:
        The ids this job won; the others were routed by someone else meanwhile.
    """
    table = Conversation.__table__
    ids = sorted(conversation.id for conversation in conversations)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(table.c.id).where(table.c.id.in_(ids)).order_by(table.c.id).with_for_update())
    column = table.c.routed_message_id
    # Cast: a CASE of only NULLs (nothing routed yet) would otherwise be text on PostgreSQL.
    seen = sa.cast(sa.case({c.id: c.routed_message_id for c in conversations}, value=table.c.id), column.type)
    target = sa.case({c.id: latest[c.id] for c in conversations}, value=table.c.id)
    return set(db.session.scalars(
        sa.update(table).where(table.c.id.in_(ids), column.is_not_distinct_from(seen))
        .values(routed_message_id=target).returning(table.c.id)))


def _route_round(conversation_ids: list[int]) -> tuple[int, list[int]]:
    """Route what needs it among these conversations, in one transaction.

    Returns:
        How many were routed, and the ids another worker claimed first (to read again).
    """
    latest = latest_inbound(conversation_ids)
    conversations = db.session.scalars(
        sa.select(Conversation).where(Conversation.id.in_(list(latest)))
        .options(so.joinedload(Conversation.channel), so.joinedload(Conversation.author),
                 so.joinedload(Conversation.assignee))
        .order_by(Conversation.id)
    ).all()
    pending = [c for c in conversations if c.routed_message_id != latest[c.id] and c.status != "spam"]
    if not pending:
        db.session.rollback()
        return 0, []

    queues = ensure_triage(queues_by_slug())
    texts = message_texts([latest[c.id] for c in pending])
    now = utcnow()
    # Only email has recipients: other channels' messages cost no extra read.
    mailed = mail_recipients([latest[c.id] for c in pending if c.channel.kind == "email"])
    policies = clocks.Policies()
    posts = posts_for(pending, [texts[latest[c.id]] for c in pending], queues, now, policies,
                      {c.id: mailed[latest[c.id]] for c in pending if latest[c.id] in mailed})
    decisions = routing.route_many(posts, active_rules(), current_model(), queues=frozenset(queues),
                                   settings=routing_settings(queues.values()))
    # Claimed only now, so no row stays locked while the classifier runs.
    won = claim(pending, latest)
    lost = [c.id for c in pending if c.id not in won]
    kept = [(c, d) for c, d in zip(pending, decisions, strict=True) if c.id in won]
    if not kept:
        db.session.rollback()
        return 0, lost
    pending, decisions = [c for c, _ in kept], [d for _, d in kept]
    kinds = []
    for conversation, decision in zip(pending, decisions, strict=True):
        kinds.append("created" if conversation.status == "new" else "updated")
        _apply(conversation, decision, queues, now, policies)
        conversation.routed_message_id = latest[conversation.id]  # as claimed; keeps the session in step
    _store_languages({latest[c.id]: d.language for c, d in zip(pending, decisions, strict=True)})
    db.session.flush()  # queue ids are set from the relationships here
    routed_texts = [texts[latest[c.id]] for c in pending]
    volume.record(pending, routed_texts)
    incidents.join_open_incidents(pending, routed_texts)
    changes = Changes()
    placed = [c for c, kind in zip(pending, kinds, strict=True) if kind == "created" and c.status == "open"]
    acknowledgements.acknowledge(placed, latest, now, policies, changes)
    for conversation, kind in zip(pending, kinds, strict=True):
        changes.add(conversation, kind, preview=texts[latest[conversation.id]][:PREVIEW_CHARS])
    routed = [(c.id, latest[c.id]) for c in pending]  # read before the commit expires them
    db.session.commit()
    changes.publish()
    stored_at = stored_times([message_id for _, message_id in routed])
    signals.conversations_routed.send(ids=[c for c, _ in routed], stored_at=[stored_at[m] for _, m in routed])
    fold_counts()  # routing is the busiest writer, so it keeps the kept counts short
    db.session.rollback()
    assignment.assign_waiting(sorted(changes.queue_ids))
    return len(routed), lost


def _store_languages(languages: dict[int, str]) -> None:
    """Record on each routed message the language routing detected in it, in one UPDATE."""
    known = {message_id: code for message_id, code in languages.items() if code}
    if known:
        db.session.execute(sa.update(Message).where(Message.id.in_(list(known)))
                           .values(language=sa.case(known, value=Message.id)),
                           execution_options={"synchronize_session": False})


def queues_by_slug() -> dict[str, Queue]:
    """Return every queue by slug."""
    return {queue.slug: queue for queue in db.session.scalars(sa.select(Queue))}


def ensure_triage(queues: dict[str, Queue]) -> dict[str, Queue]:
    """Make sure the triage queue exists: it is where routing sends what it cannot place."""
    if TRIAGE not in queues:
        queues[TRIAGE] = Queue(slug=TRIAGE, name="Triage", description="Needs a human to route it.")
        db.session.add(queues[TRIAGE])
    return queues


def routing_settings(queues) -> RoutingSettings:
    """Routing settings with each queue's own confidence threshold, where it set one, and the priority
    weights in force (read again for every batch, so an admin's change applies from the next one)."""
    return RoutingSettings(
        threshold=current_app.config["ROUTING_THRESHOLD"],
        queue_thresholds={q.slug: q.routing_threshold for q in queues if q.routing_threshold is not None},
        weights=current_weights(),
    )


def posts_for(conversations: list[Conversation], texts: list[str], queues: dict[str, Queue], now: datetime,
              policies: "clocks.Policies", recipients: dict[int, frozenset[str]] | None = None) -> list[Post]:
    """Build routing's view of each conversation, its customer read as their whole person (two queries);
    `recipients` are the mailboxes each email conversation's post went to, by conversation id."""
    facts = facts_for([c.author for c in conversations])
    recipients = recipients or {}
    return [post_for(c, text, queues, now, policies, facts[c.author_id], recipients.get(c.id, frozenset()))
            for c, text in zip(conversations, texts, strict=True)]


def post_for(conversation: Conversation, text: str, queues: dict[str, Queue], now: datetime,
             policies: "clocks.Policies", facts: Facts, recipients: frozenset[str] = frozenset()) -> Post:
    """Build the plain-data view routing gets of a conversation: its customer's facts across channels,
    waiting measured against its SLA policy, and the mailboxes an email went to."""
    author = conversation.author
    waiting_since = conversation.waiting_since or conversation.last_message_at
    queue = conversation.queue if conversation.queue_id else queues[TRIAGE]
    return Post(
        text=text,
        subject=conversation.subject,
        channel=conversation.channel.slug,
        channel_kind=conversation.channel.kind,
        author_handle=author.handle,
        author_name=author.name,
        author_followers=facts.followers,
        author_verified=facts.verified,
        author_tags=facts.tags,
        author_fields=facts.field_pairs(),
        recipients=recipients,
        waiting_seconds=max(0.0, (now - waiting_since).total_seconds()),
        sla_seconds=60.0 * policies.reply_minutes(queue, Priority(conversation.priority)),
    )


def _apply(conversation: Conversation, decision: Decision, queues: dict[str, Queue], now,
           policies: "clocks.Policies") -> None:
    """Store a decision; a follow-up re-scores priority but keeps the agents' queue.

    A customer's follow-up on a conversation pending on them opens it again,
    which resumes its SLA clocks and ends a snooze.
    """
    priority = Priority.parse(decision.priority)
    if conversation.status == "new":
        conversation.queue = queues.get(decision.queue) or queues[TRIAGE]
        conversation.routed_queue_id = conversation.queue.id
        conversation.status = "spam" if decision.spam else "open"
        conversation.routed_at = now
        model = decision.explanation.get("model") or {}
        conversation.predicted_queue = model["labels"][0][0] if model.get("labels") else None
    if conversation.status == "pending":
        conversation.status, conversation.snoozed_until = "open", None
    if conversation.waiting_since is None:
        conversation.waiting_since = conversation.last_message_at
    conversation.priority = priority
    conversation.priority_score = decision.score
    if decision.language:
        conversation.language = decision.language
    conversation.tags = sorted(set(conversation.tags or ()) | set(decision.tags))
    conversation.explanation = decision.explanation
    clocks.sync(conversation, now, policies)
    conversation.updated_at = now


def active_rules() -> list:
    """Return the compiled routing rules in force (recompiled only after a change)."""
    return compiled_rules(current_app.extensions.setdefault("compiled_rules", {}))
