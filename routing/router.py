"""Route posts to a queue with a priority: rules, then @-mentions, then the classifier.

Order of decision for the queue:

1. explicit rules, in order (see routing.rules for precedence and ``stop``);
2. the built-in mention fallback: the first ``@<slug>`` in the subject, then the
   text, naming an existing queue picks it (``"@billing my card was charged
   twice"`` goes to billing);
3. the classifier: its top label, if it is an existing queue and its
   probability reaches that queue's threshold;
4. otherwise the triage queue, with the explanation saying why.

A queue must be in ``queues`` (the triage queue always is), so every
conversation lands in exactly one existing queue. The classifier runs on every
post that has a model (batched, one predict_proba per call) even when a rule
decided, so the explanation always shows what the model thought.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from routing.conditions import PostFacts
from routing.decision import Decision
from routing.language import detect_many
from routing.post import Post
from routing.priority import PriorityWeights, assess
from routing.rules import CompiledRule, RuleOutcome, apply_rules
from routing.sentiment import scope, sentiments
from routing.text import model_text

if TYPE_CHECKING:  # the classifier pulls in scikit-learn; routing itself must stay light to import
    from routing.classifier import QueueModel

TRIAGE = "triage"
TOP_K = 3  # model labels kept in the explanation


@dataclass(frozen=True, slots=True)
class RoutingSettings:
    """Routing knobs: the triage queue, classifier confidence thresholds and priority weights."""

    triage_queue: str = TRIAGE
    threshold: float = 0.6  # default minimum model probability to route without a human (calibrated)
    queue_thresholds: Mapping[str, float] = field(default_factory=dict)  # per-queue overrides
    weights: PriorityWeights = field(default_factory=PriorityWeights)

    def threshold_for(self, queue: str) -> float:
        """Return the confidence the model needs to route to a queue.

        Args:
            queue: a queue slug.

        Returns:
            The queue's own threshold if configured, else the default.
        """
        return self.queue_thresholds.get(queue, self.threshold)


def route(
    post: Post,
    rules: Sequence[CompiledRule] = (),
    model: QueueModel | None = None,
    *,
    queues: Iterable[str] = frozenset(),
    settings: RoutingSettings | None = None,
) -> Decision:
    """Route one post; the same as ``route_many([post], ...)[0]``.

    Args:
        post: the post to route.
        rules: compiled rules, in order.
        model: a loaded QueueModel, or None for rules and mentions only.
        queues: the queue slugs that exist.
        settings: thresholds and weights; RoutingSettings() if None.

    Returns:
        The Decision.
    """
    return route_many([post], rules, model, queues=queues, settings=settings)[0]


def route_many(
    posts: Sequence[Post],
    rules: Sequence[CompiledRule] = (),
    model: QueueModel | None = None,
    *,
    queues: Iterable[str] = frozenset(),
    settings: RoutingSettings | None = None,
) -> list[Decision]:
    """Route a batch of posts, classifying them all in one model call.

    Args:
        posts: the posts to route.
        rules: compiled rules, in order.
        model: a loaded QueueModel, or None for rules and mentions only.
        queues: the queue slugs that exist.
        settings: thresholds and weights; RoutingSettings() if None.

    Returns:
        One Decision per post, in order.
    """
    settings = settings or RoutingSettings()
    existing = frozenset(queues) | {settings.triage_queue}
    posts = list(posts)
    if not posts:
        return []
    # Only posts whose language is not known yet are detected (a stored message keeps its own).
    unknown = [i for i, p in enumerate(posts) if not p.language]
    detected = dict(zip(unknown, detect_many([f"{posts[i].subject}\n{posts[i].text}" for i in unknown]), strict=True))
    languages = [p.language or detected.get(i, "") for i, p in enumerate(posts)]
    compounds = sentiments((f"{p.subject}\n{p.text}" if p.subject else p.text for p in posts), languages)
    predictions = model.top_labels([model_text(p) for p in posts], k=TOP_K) if model is not None else None
    decisions = []
    for i, post in enumerate(posts):
        facts = PostFacts(post, compounds[i], detected.get(i, ""))
        outcome = apply_rules(rules, facts, existing)
        queue, reason, mention, model_info = _choose_queue(
            facts, outcome, predictions[i] if predictions is not None else None, model, existing, settings
        )
        priority = assess(
            post,
            sentiment=compounds[i],
            words=facts.words["any"],
            rule_points=outcome.score_bumps,
            rule_floor=outcome.floor,
            weights=settings.weights,
        )
        decisions.append(
            Decision(
                queue=queue,
                priority=priority.level,
                score=priority.score,
                tags=tuple(outcome.tags),
                assignee=outcome.assignee,
                spam=outcome.spam,
                explanation={
                    "rules": outcome.record,
                    "mention": mention,
                    "model": model_info,
                    "queue_reason": reason,
                    "priority": priority.to_dict(),
                    "sentiment": round(compounds[i], 4),
                    "sentiment_scope": scope(facts.language),
                    "language": facts.language,
                },
                language=facts.language,
            )
        )
    return decisions


def _choose_queue(
    facts: PostFacts,
    outcome: RuleOutcome,
    labels: list[tuple[str, float]] | None,
    model: QueueModel | None,
    existing: frozenset[str],
    settings: RoutingSettings,
) -> tuple[str, str, str | None, dict | None]:
    """Pick the queue: rules, then the mention fallback, then the model, then triage.

    Returns:
        (queue, queue_reason, mention queue or None, model explanation or None).
    """
    model_info = None
    if labels is not None and model is not None:
        top, p = labels[0]
        model_info = {
            "version": model.version,
            "labels": [[label, round(q, 4)] for label, q in labels],
            "threshold": settings.threshold_for(top),
            "chosen": False,
        }
    if outcome.queue is not None:
        return outcome.queue, f"{outcome.queue_rule} set queue {outcome.queue}", None, model_info

    slug = next((m for m in facts.mention_order if m in existing), None)
    if slug is not None:
        return slug, f"@{slug} mention picked queue {slug}", slug, model_info

    triage = settings.triage_queue
    if model_info is None:
        return triage, f"no rule or model: {triage}", None, None
    threshold = model_info["threshold"]
    if top not in existing:
        return triage, f"model predicted {top}, which is not a queue: sent to {triage}", None, model_info
    if p < threshold:
        return triage, f"model confidence {p:.2f} below threshold {threshold:.2f}: sent to {triage}", None, model_info
    model_info["chosen"] = True
    return top, f"model predicted {top} ({p:.2f} \u2265 {threshold:.2f})", None, model_info
