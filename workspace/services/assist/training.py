"""Train the suggestion ranker through its promotion gate, and suggest for conversations (worker only).

This module loads scikit-learn (through suggestions.ranker): the worker runs
it at routing time; the web process only reads what it stored.
A version records a watermark instead of a model file: any worker rebuilds
the same ranker from the rows up to it, and keeps the active one in memory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from workspace.extensions import db
from workspace.models import Agent, Suggestion, SuggestionVersion, utcnow
from workspace.services import audit
from workspace.services.assist import examples

if TYPE_CHECKING:
    from suggestions.ranker import Ranker  # lazy: scikit-learn, which the web process never loads

# Every HOLDOUT_EVERY-th macro application is held out for the gate (when there are at least MIN_HELD_OUT).
HOLDOUT_EVERY = 5
MIN_HELD_OUT = 2
# The active version's ranker, per process: its key (version id, trained at) and the ranker.
_loaded: dict = {}


def _build(mark: dict, *, leave_out: frozenset = frozenset()) -> Ranker:
    from suggestions.ranker import Ranker  # lazy: scikit-learn, which the web process never loads
    applied = [(text, macro_id) for conversation_id, text, macro_id in examples.applied_macros(mark)
               if conversation_id not in leave_out]
    return Ranker().fit(examples.macro_texts(), applied, examples.past_replies(mark), examples.article_texts())


def measure(ranker: Ranker, held_out: list[tuple[int, str, int]]) -> dict:
    """How high the ranker puts the macro agents applied: first, in the top three, mean reciprocal rank."""
    ranks = [ranker.macro_rank(text, macro_id) for _, text, macro_id in held_out]
    n = len(ranks)
    return {"n": n, "first": sum(rank == 1 for rank in ranks) / n if n else None,
            "top3": sum(rank is not None for rank in ranks) / n if n else None,
            "mrr": sum(1 / rank for rank in ranks if rank) / n if n else None}


def active_version() -> SuggestionVersion | None:
    """The version whose suggestions agents see, if any."""
    return db.session.scalar(sa.select(SuggestionVersion).where(SuggestionVersion.active))


def train(*, force: bool = False, agent: Agent | None = None) -> SuggestionVersion:
    """Train a version from everything stored so far; promote it if it ranks held-out applied macros at least as
    high as the active version does (trained without the same held-out conversations)."""
    mark = examples.watermark()
    applied = examples.applied_macros(mark)
    held = applied[::HOLDOUT_EVERY] if len(applied) >= HOLDOUT_EVERY * MIN_HELD_OUT else []
    leave_out = frozenset(conversation_id for conversation_id, _, _ in held)
    candidate = measure(_build(mark, leave_out=leave_out), held)
    current = active_version()
    baseline = measure(_build(current.watermark, leave_out=leave_out), held) if current and held else None
    if force:
        promote, why = True, "promotion forced by an admin"
    elif current is None:
        promote, why = True, "there is no active version to beat"
    elif not held:
        promote, why = False, "too few applied macros to hold out for the gate"
    elif candidate["mrr"] >= baseline["mrr"]:
        promote, why = True, f"ranks applied macros at least as high: MRR {candidate['mrr']:.3f} vs " \
                             f"{baseline['mrr']:.3f} on {len(held)} held-out conversations"
    else:
        promote, why = False, f"ranks applied macros lower: MRR {candidate['mrr']:.3f} vs {baseline['mrr']:.3f} " \
                              f"on {len(held)} held-out conversations"
    version = SuggestionVersion(watermark=mark, metrics={"candidate": candidate, "active": baseline},
                                training_size=len(applied), decision=why)
    db.session.add(version)
    if promote:
        db.session.execute(sa.update(SuggestionVersion).where(SuggestionVersion.active).values(active=False))
        version.active, version.promoted_at = True, utcnow()
    db.session.flush()
    audit.record(agent, "suggestions.train", "suggestion_version", version.id,
                 after={"promoted": promote, "decision": why, "metrics": version.metrics})
    db.session.commit()
    return version


def active_ranker() -> tuple[SuggestionVersion, Ranker]:
    """The active version and its ranker, rebuilt once per process per version (trained first if none)."""
    version = active_version() or train()
    # The training time too: a database recreated (tests, a restore) may reuse an id for another version.
    key = (version.id, version.trained_at)
    if _loaded.get("key") != key:
        _loaded.update(key=key, ranker=_build(version.watermark))
    return version, _loaded["ranker"]


def suggest_conversations(conversation_ids: list[int]) -> int:
    """Store suggestions for each conversation's newest post (idempotent: a post suggested for stays as it is).

    Returns:
        How many conversations got new suggestions.
    """
    version, ranker = active_ranker()
    posts = examples.latest_posts(conversation_ids)
    done = set(db.session.scalars(sa.select(Suggestion.message_id).where(
        Suggestion.message_id.in_([message_id for message_id, _ in posts.values()]),
        Suggestion.version_id == version.id)))
    todo = [(conversation_id, message_id, text) for conversation_id, (message_id, text) in sorted(posts.items())
            if message_id not in done]
    for (conversation_id, message_id, _), suggested in zip(
            todo, ranker.suggest_many([text for _, _, text in todo]), strict=True):
        for candidates in (suggested.macros, suggested.replies, suggested.articles):
            db.session.add_all(Suggestion(
                conversation_id=conversation_id, version_id=version.id, message_id=message_id,
                kind=candidate.kind, rank=rank, confidence=round(candidate.confidence, 4),
                evidence=candidate.evidence, macro_id=candidate.ref if candidate.kind == "macro" else None,
                article_id=candidate.ref if candidate.kind == "article" else None,
                source_message_id=candidate.ref if candidate.kind == "reply" else None)
                for rank, candidate in enumerate(candidates, 1))
    db.session.commit()
    return len(todo)
