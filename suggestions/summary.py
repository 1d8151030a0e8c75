"""Extractive summaries of a thread: the customer's problem, what was tried, where it stands (offline, repeatable).

Sentences are picked, never written: the problem from the customer's first
post (its first sentence, and the one that says most about what goes wrong),
what was tried from later messages that say so, and the last message's
opening. The same thread always gives the same summary.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

MAX_SENTENCE_CHARS = 200
MAX_TRIED = 3
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")
# Words that say what goes wrong, and words that say something was attempted.
_PROBLEM = re.compile(r"\b(can'?t|cannot|won'?t|doesn'?t|didn'?t|isn'?t|not|never|no longer|error|fail\w*|"
                      r"broken|wrong|charged|missing|lost|still|stuck|crash\w*|locked|declined|refund\w*)\b", re.I)
_TRIED = re.compile(r"\b(tried|try|trying|restart\w*|reinstall\w*|reset|cleared?|already|checked|updated?|"
                    r"rebooted|logged out|refunded|sent you|escalat\w*|asked|changed|re-?entered)\b", re.I)
SPEAKERS = {"inbound": "Customer", "outbound": "Agent", "note": "Note"}


@dataclass(frozen=True, slots=True)
class Summary:
    """What a thread is about: the problem, what was tried (oldest first), and the last message's gist."""

    problem: str
    tried: list[str] = field(default_factory=list)
    last: str = ""


def _sentences(text: str) -> list[str]:
    found = [" ".join(s.split()) for s in _SENTENCES.split(text or "")]
    return [s if len(s) <= MAX_SENTENCE_CHARS else s[:MAX_SENTENCE_CHARS].rsplit(" ", 1)[0] + "…"
            for s in found if s]


def summarize(messages: Sequence[tuple[str, str]]) -> Summary | None:
    """Summarize a thread.

    Args:
        messages: (direction, text) oldest first; direction is inbound, outbound or note.

    Returns:
        The Summary, or None when the thread holds no customer post.
    """
    first = next((i for i, (direction, _) in enumerate(messages) if direction == "inbound"), None)
    if first is None:
        return None
    opening = _sentences(messages[first][1])
    if not opening:
        return None
    problem = [opening[0]]
    # The rest of the first post: the sentence with the most trouble words, the earliest of equals.
    scored = sorted(((len(_PROBLEM.findall(s)), -i, s) for i, s in enumerate(opening[1:])), reverse=True)
    if scored and scored[0][0] > 0:
        problem.append(scored[0][2])
    tried: list[str] = []
    for direction, text in messages[first + 1:]:
        for sentence in _sentences(text):
            if _TRIED.search(sentence) and sentence not in tried and len(tried) < MAX_TRIED:
                tried.append(f"{SPEAKERS.get(direction, 'Someone')}: {sentence}")
    last = ""
    if len(messages) > first + 1:
        direction, text = messages[-1]
        words = _sentences(text)
        last = f"{SPEAKERS.get(direction, 'Someone')}: {words[0]}" if words else ""
    return Summary(problem=" ".join(problem), tried=tried, last=last)


def as_text(summary: Summary) -> str:
    """A summary as plain lines, for a ticket comment."""
    lines = [f"Problem: {summary.problem}"]
    lines += [f"Tried: {item}" for item in summary.tried]
    if summary.last:
        lines.append(f"Last: {summary.last}")
    return "\n".join(lines)
