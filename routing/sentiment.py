"""Sentiment of customer text: VADER's compound score, a lexicon tuned for social media."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

# VADER's cost grows with text length; the tone of a support post is set in its
# opening (complaint first, details after), so a pasted log or a long thread is
# scored on its first part only, keeping one huge post from stalling a batch.
MAX_CHARS = 1_000

# Identical texts recur (bulk reposts, "any update?" follow-ups, retried jobs);
# caching them is cheap and VADER is pure Python.
_CACHE_SIZE = 8_192

# Loading the lexicon takes tens of milliseconds: build the analyzer once.
_analyzer = SentimentIntensityAnalyzer()


@lru_cache(maxsize=_CACHE_SIZE)
def _compound(text: str) -> float:
    return float(_analyzer.polarity_scores(text)["compound"])


def sentiment(text: str) -> float:
    """Return the VADER compound sentiment of text, from -1 (most negative) to 1.

    Args:
        text: customer text; only its first MAX_CHARS characters are scored.

    Returns:
        The compound score in [-1, 1]; 0.0 for empty text.
    """
    text = text[:MAX_CHARS].strip()
    return _compound(text) if text else 0.0


def sentiments(texts: Iterable[str]) -> list[float]:
    """Return the compound sentiment of each text.

    Args:
        texts: customer texts.

    Returns:
        One score in [-1, 1] per text, in order.
    """
    return [sentiment(t) for t in texts]
