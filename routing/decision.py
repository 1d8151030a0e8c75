"""The routing output: where a conversation goes, how urgent it is, and why."""

from __future__ import annotations

from dataclasses import dataclass, field

# Priority levels, most urgent first; the index is the level's rank.
PRIORITY_LEVELS: tuple[str, ...] = ("urgent", "high", "normal", "low")


def level_rank(level: str) -> int:
    """Return the rank of a priority level (0 is most urgent).

    Args:
        level: one of PRIORITY_LEVELS.

    Returns:
        The level's index in PRIORITY_LEVELS.

    Raises:
        ValueError: if the level is unknown.
    """
    return PRIORITY_LEVELS.index(level)


@dataclass(frozen=True, slots=True)
class Decision:
    """Where one conversation goes, with what priority, and why."""

    queue: str  # queue slug; always set (falls back to "triage")
    priority: str  # "urgent" | "high" | "normal" | "low"
    score: float  # numeric score; the level is derived from it by documented thresholds
    tags: tuple[str, ...] = ()
    assignee: str | None = None  # agent email, if a rule assigned one
    spam: bool = False
    explanation: dict = field(default_factory=dict)  # JSON-serialisable
    language: str = ""  # ISO 639-1 code of the post ("" when it has no letters to tell from)
