"""What the ranker proposes: one candidate with its source and confidence."""

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Candidate:
    """One suggestion: a macro or a past reply, how sure the ranker is, and why.

    kind is "macro", "reply" or "article"; ref is the macro's, past reply's or article's id;
    evidence says where the confidence comes from ("learned": agents applied
    this macro to similar posts; "text": the macro's own words match, the cold
    start; "similar_post": the reply answered a post this close).
    """

    kind: str
    ref: int
    confidence: float
    evidence: str


@dataclass(frozen=True, slots=True)
class Suggested:
    """Everything suggested for one post: at most `top` macros, replies and articles, each above its threshold."""

    macros: list[Candidate] = field(default_factory=list)
    replies: list[Candidate] = field(default_factory=list)
    articles: list[Candidate] = field(default_factory=list)
