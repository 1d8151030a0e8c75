"""What-if replay: run stored posts of a period through draft rules and the active model, changing nothing."""

import dataclasses
import re
from collections import Counter
from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

import routing
from routing import RuleError
from routing.decision import level_rank
from workspace.errors import ValidationError
from workspace.extensions import db
from workspace.models import Conversation, Message, utcnow
from workspace.services.service_levels import clocks
from workspace.services.triage import weights
from workspace.services.triage.classifier import current_model
from workspace.services.triage.decisions import ensure_triage, posts_for, queues_by_slug, routing_settings
from workspace.services.triage.rescoring import UNRESOLVED
from workspace.services.triage.rules import rules_in_order

# Conversations are routed in batches of this many (one classifier call each).
BATCH = 500
# A replay or preview routes at most this many conversations, the newest stored: it runs in a request (a few
# seconds at most), however long the period or the backlog. The report says when it stopped there.
LIMIT = 10_000
EXAMPLES_PER_MOVE = 3
_PERIOD = re.compile(r"^([0-9]{1,6})([mhdw])$")  # 6 digits: far past any history, within timedelta
# A longer period means all of history; a date that far back (999999w is 19,000 years) does not exist.
LONGEST = timedelta(days=100 * 365)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_period(text: str) -> timedelta:
    """Turn '7d', '12h', '30m' or '2w' into a timedelta (at most LONGEST: longer is all history anyway)."""
    match = _PERIOD.match(str(text).strip())
    if not match or int(match.group(1)) == 0:
        raise ValidationError("since: use a number and a unit, like 7d, 12h, 30m or 2w", code="invalid_field")
    return min(timedelta(**{_UNITS[match.group(2)]: int(match.group(1))}), LONGEST)


def replay(since: timedelta, rule_specs: list[dict]) -> dict:
    """Report where a period's conversations would go under draft rules and the active model, and whose
    priority the draft rules would change against the rules in force (both scored now).

    Nothing is written: the session is rolled back at the end.

    Args:
        since: how far back to look (by when conversations were created).
        rule_specs: the draft rule list, in order, in the stored rule format.

    Returns:
        {"conversations", "would_move", "moves": [{"from", "to", "count", "vip", "examples"}],
         "priority_would_change", "priority_changes": [{"from", "to", "count", "examples"}], "limited", ...}
        "limited" is true when the period held more than LIMIT conversations (the newest LIMIT were replayed).
    """
    if not isinstance(rule_specs, list):
        raise ValidationError("rules: must be a list of rules", code="invalid_field")
    queues = ensure_triage(queues_by_slug())
    try:
        rules = routing.compile_rules(rule_specs, queues=frozenset(queues))
    except RuleError as error:
        raise ValidationError(str(error), code="invalid_rule")
    in_force = _rules_in_force()
    model, settings, now = current_model(), routing_settings(queues.values()), utcnow()
    by_id = {queue.id: queue.slug for queue in queues.values() if queue.id is not None}
    moves: dict[tuple[str, str], dict] = {}
    priorities: dict[tuple[str, str], dict] = {}
    total = 0
    query = sa.select(Conversation).where(Conversation.created_at >= now - since, Conversation.status != "new")
    limited = _over_limit(query)
    for batch, posts in _batches(query, queues, now):
        total += len(batch)
        decisions = routing.route_many(posts, rules, model, queues=frozenset(queues), settings=settings)
        # Priority does not depend on the model: the rules in force alone give the level to compare with.
        baseline = routing.route_many(posts, in_force, None, queues=frozenset(queues), settings=settings)
        for conversation, decision, before in zip(batch, decisions, baseline, strict=True):
            previous = by_id.get(conversation.routed_queue_id or conversation.queue_id, "triage")
            if decision.queue != previous:
                _count_move(moves, conversation, previous, decision)
            _count_priority(priorities, conversation, before, decision)
    ordered = sorted(moves.values(), key=lambda move: -move["count"])
    changes = sorted(priorities.values(), key=lambda change: -change["count"])
    return {
        "since": (now - since).isoformat(), "conversations": total,
        "would_move": sum(move["count"] for move in ordered),
        "vip_would_move": sum(move["vip"] for move in ordered),
        "priority_would_change": sum(change["count"] for change in changes),
        "model_version": model.metadata()["version"] if model else None,
        "moves": ordered, "priority_changes": changes, "limited": limited, "limit": LIMIT,
    }


def preview_weights(values: object) -> dict:
    """Report which unresolved conversations would change priority level under proposed weights, both they
    and the weights in force scored now with the rules in force (nothing is written).

    Args:
        values: the proposed weights, as the weights API takes them.

    Returns:
        {"conversations", "would_change", "raised", "lowered", "changes": [{"from", "to", "count", "examples"}],
         "limited"}: "limited" is true when more than LIMIT were unresolved (the newest LIMIT were scored).
    """
    proposed = weights.parse_weights(values)
    queues = ensure_triage(queues_by_slug())
    rules, settings, now = _rules_in_force(), routing_settings(queues.values()), utcnow()
    draft = dataclasses.replace(settings, weights=proposed)
    changes: dict[tuple[str, str], dict] = {}
    total = 0
    query = sa.select(Conversation).where(Conversation.status.in_(UNRESOLVED))
    limited = _over_limit(query)
    for batch, posts in _batches(query, queues, now):
        total += len(batch)
        before = routing.route_many(posts, rules, None, queues=frozenset(queues), settings=settings)
        after = routing.route_many(posts, rules, None, queues=frozenset(queues), settings=draft)
        for conversation, old, new in zip(batch, before, after, strict=True):
            _count_priority(changes, conversation, old, new)
    ordered = sorted(changes.values(), key=lambda change: -change["count"])
    raised = sum(c["count"] for c in ordered if level_rank(c["to"]) < level_rank(c["from"]))
    return {"conversations": total, "would_change": sum(c["count"] for c in ordered), "raised": raised,
            "lowered": sum(c["count"] for c in ordered) - raised, "changes": ordered, "limited": limited,
            "limit": LIMIT}


def _rules_in_force() -> list:
    """The stored rules compiled (a queue deleted since is tolerated); one that does not compile (written to
    the database by hand) is refused as a draft would be, naming it."""
    try:
        return routing.compile_rules([rule.spec() for rule in rules_in_order()])
    except RuleError as error:
        raise ValidationError(f"a rule in force does not compile: {error}", code="invalid_rule")


def _newest_ids(query):
    """The query's conversation ids, the most recently stored first."""
    return query.with_only_columns(Conversation.id).order_by(Conversation.id.desc())


def _over_limit(query) -> bool:
    """Whether the query finds more than LIMIT conversations (one look past the LIMIT newest ids)."""
    return db.session.scalar(_newest_ids(query).offset(LIMIT).limit(1)) is not None


def _batches(query, queues: dict, now):
    """Yield (conversations, their posts as routing first saw them) in batches, at most the newest LIMIT of
    the query's; roll back at the end."""
    policies = clocks.Policies()
    newest = _newest_ids(query).limit(LIMIT).subquery()
    query = (sa.select(Conversation).where(Conversation.id.in_(sa.select(newest.c.id)))
             .options(so.joinedload(Conversation.channel), so.joinedload(Conversation.author)))
    try:
        rows = db.session.scalars(query.order_by(Conversation.id).execution_options(yield_per=BATCH))
        for batch in rows.partitions():
            texts = _first_texts([c.id for c in batch])
            yield batch, posts_for(batch, [texts.get(c.id, "") for c in batch], queues, now, policies)
    finally:
        db.session.rollback()


def _first_texts(conversation_ids: list[int]) -> dict[int, str]:
    """The first inbound text of each conversation: what routing first saw."""
    first = (sa.select(Message.conversation_id, sa.func.min(Message.id).label("id"))
             .where(Message.conversation_id.in_(conversation_ids), Message.direction == "inbound")
             .group_by(Message.conversation_id).subquery())
    rows = db.session.execute(sa.select(first.c.conversation_id, Message.text).join(Message, Message.id == first.c.id))
    return dict(rows.all())


def _count_move(moves: dict, conversation: Conversation, before: str, decision) -> None:
    move = moves.setdefault((before, decision.queue), {"from": before, "to": decision.queue, "count": 0,
                                                       "vip": 0, "examples": []})
    move["count"] += 1
    move["vip"] += "vip" in (conversation.author.tags or ())
    if len(move["examples"]) < EXAMPLES_PER_MOVE:
        move["examples"].append({"conversation_id": conversation.id, "subject": conversation.subject,
                                 "reason": decision.explanation.get("queue_reason", "")})


def _count_priority(changes: dict, conversation: Conversation, before, after) -> None:
    if before.priority == after.priority:
        return
    change = changes.setdefault((before.priority, after.priority), {"from": before.priority, "to": after.priority,
                                                                    "count": 0, "examples": []})
    change["count"] += 1
    if len(change["examples"]) < EXAMPLES_PER_MOVE:
        change["examples"].append({"conversation_id": conversation.id, "subject": conversation.subject,
                                   "score_before": before.score, "score_after": after.score})


def summarize(report: dict) -> str:
    """Render a replay report as text for the command line."""
    lines = [f"{report['conversations']} conversations since {report['since']}; "
             f"{report['would_move']} would move ({report['vip_would_move']} of them VIP)"
             f"; model {report['model_version'] or 'none'}"]
    if report["limited"]:
        lines.append(f"(the newest {report['limit']} of the period: there were more)")
    for move in report["moves"]:
        lines.append(f"  {move['from']:>16} -> {move['to']:<16} {move['count']:6}  (VIP {move['vip']})")
        lines += [f"      #{e['conversation_id']} {e['subject'][:50]!r}: {e['reason']}" for e in move["examples"]]
    counts = Counter()
    for move in report["moves"]:
        counts[move["to"]] += move["count"]
    if counts:
        lines.append("arriving: " + ", ".join(f"{queue} +{n}" for queue, n in counts.most_common()))
    return "\n".join(lines)
