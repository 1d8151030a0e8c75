"""Priority: a numeric score from documented, configurable weights, and the level it implies."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from routing.decision import PRIORITY_LEVELS, level_rank
from routing.post import Post
from routing.text import TermIndex, Words

# Words and phrases that mean a customer is blocked, losing money or under
# attack. Matched as whole words, ignoring case, accents and apostrophes, so
# "can't" also covers "cant" and "CAN’T". "down" alone is left out on purpose:
# "down payment" and "write it down" are not outages.
DEFAULT_URGENCY_TERMS: tuple[str, ...] = (
    "outage",
    "is down",
    "are down",
    "went down",
    "site down",
    "service down",
    "app down",
    "not working",
    "not loading",
    "stopped working",
    "can't log in",
    "can't login",
    "cannot log in",
    "cannot login",
    "unable to log in",
    "unable to login",
    "locked out",
    "hacked",
    "compromised",
    "fraud",
    "fraudulent",
    "stolen",
    "scam",
    "unauthorized",
    "unauthorised",
    "security breach",
    "data breach",
    "charged twice",
    "double charged",
    "charged me twice",
    "double charge",
    "duplicate charge",
    "urgent",
    "urgently",
    "emergency",
    "asap",
)

# A customer about to take the complaint public (the press, a review site, a
# lawyer, their followers): a reply now is cheaper than a thread later, and the
# more people would read it the more it matters, so its points grow with reach.
DEFAULT_PUBLICITY_TERMS: tuple[str, ...] = (
    "go to the press",
    "going to the press",
    "contact the press",
    "tell the press",
    "contact the media",
    "tell the media",
    "journalist",
    "reporter",
    "go public",
    "going public",
    "tell my followers",
    "all my followers",
    "go viral",
    "going viral",
    "post this everywhere",
    "bad review",
    "one star review",
    "trustpilot",
    "better business bureau",
    "lawyer",
    "attorney",
    "legal action",
    "class action",
    "sue you",
)


@dataclass(frozen=True, slots=True)
class PriorityWeights:
    """Points each factor adds to a post's priority score, and the score thresholds of each level.

    The score starts at 0 and is the sum of:
      - rule bumps: each firing rule's `score` action, as written in the rule;
      - urgency words: `urgency_points` per distinct term of `urgency_terms` found
        in the subject or text, counting at most `urgency_max_terms` terms;
      - sentiment: `negative_points` x |compound| when VADER's compound is
        negative, minus `positive_points` x compound when it is positive
        (thanks and praise sink towards low);
      - VIP: `vip_points` if the author carries any of `vip_tags`;
      - influence: `influence_points` per power of ten of followers above
        `influence_floor` (log10 scale: 10,000 followers with the default floor
        of 1,000 give 1 x influence_points);
      - verified: `verified_points` for a verified author;
      - publicity: a threat to go public (a term of `publicity_terms`) adds
        `publicity_points`, plus `publicity_reach_points` per power of ten of
        followers above `influence_floor`: the same threat from 2.4 million
        followers weighs far more than from 50;
      - waiting: `waiting_points` x waiting/SLA (1.0 when the SLA is just due),
        capped at `waiting_cap` x waiting_points; nothing when no SLA is known.

    The level is the first whose threshold the score reaches: urgent at
    `urgent_at`, high at `high_at`, normal at `normal_at`, low below. A rule's
    `priority` action can only raise the level, never lower it.

    With the defaults one urgency term ("hacked", "site is down", "charged
    twice", "can't log in") or a VIP author makes a post high; two urgency terms,
    or one with strong anger or an overdue SLA, make it urgent; a neutral
    question stays normal; warm thanks go low.
    """

    urgency_terms: tuple[str, ...] = DEFAULT_URGENCY_TERMS
    urgency_points: float = 30.0
    urgency_max_terms: int = 2
    negative_points: float = 25.0
    positive_points: float = 10.0
    vip_tags: frozenset[str] = frozenset({"vip"})
    vip_points: float = 25.0
    influence_points: float = 5.0
    influence_floor: int = 1_000
    verified_points: float = 5.0
    publicity_terms: tuple[str, ...] = DEFAULT_PUBLICITY_TERMS
    publicity_points: float = 20.0
    publicity_reach_points: float = 10.0
    waiting_points: float = 30.0
    waiting_cap: float = 2.0
    urgent_at: float = 60.0
    high_at: float = 25.0
    normal_at: float = -5.0

    def __post_init__(self) -> None:
        if not self.urgent_at >= self.high_at >= self.normal_at:
            raise ValueError("level thresholds must satisfy urgent_at >= high_at >= normal_at")

    def level_for(self, score: float) -> str:
        """Return the priority level a score reaches by these thresholds.

        Args:
            score: a priority score.

        Returns:
            "urgent", "high", "normal" or "low".
        """
        if score >= self.urgent_at:
            return "urgent"
        if score >= self.high_at:
            return "high"
        if score >= self.normal_at:
            return "normal"
        return "low"


@dataclass(frozen=True, slots=True)
class Priority:
    """A post's priority level and score, with every contribution that made them."""

    level: str
    score: float
    contributions: tuple[dict, ...] = field(default=())

    def to_dict(self) -> dict:
        """Return the JSON-serialisable form stored in a Decision's explanation."""
        return {"level": self.level, "score": self.score, "contributions": list(self.contributions)}


@lru_cache(maxsize=32)
def _urgency_index(terms: tuple[str, ...]) -> TermIndex:
    # Built once per term list (weights are frozen), not once per post.
    return TermIndex(terms)


def urgency_terms_in(texts: Sequence[Words], terms: tuple[str, ...] = DEFAULT_URGENCY_TERMS) -> list[str]:
    """Return the distinct urgency terms found in texts, in order of appearance.

    Args:
        texts: the Words of the subject and text.
        terms: the urgency terms to look for.

    Returns:
        The terms found, as listed in `terms`, e.g. ["hacked", "charged twice"].
    """
    return _urgency_index(terms).find(texts)


def _contribution(factor: str, detail: str, points: float) -> dict:
    return {"factor": factor, "detail": detail, "points": round(points, 2)}


def assess(
    post: Post,
    *,
    sentiment: float = 0.0,
    words: Sequence[Words] | None = None,
    rule_points: Sequence[tuple[str, float]] = (),
    rule_floor: tuple[str, str] | None = None,
    weights: PriorityWeights | None = None,
) -> Priority:
    """Score a post's priority and derive its level, listing each contribution.

    Args:
        post: the post.
        sentiment: its VADER compound score in [-1, 1].
        words: the Words of subject and text, if the caller already has them.
        rule_points: (rule description, points) for each firing rule's score bump.
        rule_floor: (level, rule description) when rules force at least that level.
        weights: the weights and thresholds; PriorityWeights() if None.

    Returns:
        The Priority: level, score and contributions.
    """
    w = weights or PriorityWeights()
    parts: list[dict] = [_contribution("rule", detail, pts) for detail, pts in rule_points if pts]

    if words is None:
        words = (Words(post.subject), Words(post.text))
    terms = urgency_terms_in(words, w.urgency_terms)[: w.urgency_max_terms]
    if terms:
        parts.append(_contribution("urgency_words", ", ".join(terms), w.urgency_points * len(terms)))

    if sentiment < 0 and w.negative_points:
        parts.append(_contribution("sentiment", f"negative tone ({sentiment:.2f})", -sentiment * w.negative_points))
    elif sentiment > 0 and w.positive_points:
        parts.append(_contribution("sentiment", f"positive tone ({sentiment:.2f})", -sentiment * w.positive_points))

    vip = sorted({t.lower() for t in post.author_tags} & w.vip_tags)
    if vip:
        parts.append(_contribution("vip", "author tag " + ", ".join(vip), w.vip_points))

    decades = math.log10(1 + max(post.author_followers, 0)) - math.log10(max(w.influence_floor, 1))
    if decades > 0 and w.influence_points:
        parts.append(_contribution("influence", f"{post.author_followers:,} followers", decades * w.influence_points))

    if post.author_verified and w.verified_points:
        parts.append(_contribution("verified", "verified author", w.verified_points))

    threats = urgency_terms_in(words, w.publicity_terms)
    if threats and w.publicity_points:
        reach = max(decades, 0.0) * w.publicity_reach_points
        parts.append(_contribution("publicity", f"threatens to go public ({', '.join(threats[:2])})"
                                   + (f" with {post.author_followers:,} followers" if reach else ""),
                                   w.publicity_points + reach))

    if post.sla_seconds and post.sla_seconds > 0 and post.waiting_seconds > 0 and w.waiting_points:
        ratio = min(post.waiting_seconds / post.sla_seconds, w.waiting_cap)
        parts.append(
            _contribution(
                "waiting",
                f"waited {post.waiting_seconds / 60:.0f} min of a {post.sla_seconds / 60:.0f} min SLA",
                ratio * w.waiting_points,
            )
        )

    score = float(round(sum(p["points"] for p in parts), 2))
    level = w.level_for(score)
    if rule_floor is not None and level_rank(rule_floor[0]) < level_rank(level):
        level = rule_floor[0]
        parts.append(_contribution("rule_level", f"{rule_floor[1]} forces at least {level}", 0.0))
    return Priority(level=level, score=score, contributions=tuple(parts))


def rescore(stored: dict, author_tags: frozenset[str], weights: PriorityWeights | None = None) -> Priority:
    """Re-score a stored priority for its author's new tags: the VIP factor is replaced, every other
    contribution is kept as it was scored (the post's words, tone and reach have not changed).

    Args:
        stored: a Priority.to_dict() as kept in a conversation's explanation.
        author_tags: the author's tags now.
        weights: the weights and thresholds; PriorityWeights() if None.

    Returns:
        The new Priority; a level a rule forced stays a floor.
    """
    w = weights or PriorityWeights()
    kept = [c for c in stored.get("contributions", []) if c.get("factor") not in ("vip", "rule_level")]
    vip = sorted({t.lower() for t in author_tags} & w.vip_tags)
    if vip:
        kept.append(_contribution("vip", "author tag " + ", ".join(vip), w.vip_points))
    score = float(round(sum(c["points"] for c in kept), 2))
    level = w.level_for(score)
    for floor in (c for c in stored.get("contributions", []) if c.get("factor") == "rule_level"):
        forced = floor["detail"].rsplit(" ", 1)[-1]  # "<rule> forces at least <level>", as assess writes it
        if forced in PRIORITY_LEVELS and level_rank(forced) < level_rank(level):
            level = forced
            kept.append(floor)
    return Priority(level=level, score=score, contributions=tuple(kept))


__all__ = ["DEFAULT_PUBLICITY_TERMS", "DEFAULT_URGENCY_TERMS", "PRIORITY_LEVELS", "Priority", "PriorityWeights",
           "assess", "rescore", "urgency_terms_in"]
