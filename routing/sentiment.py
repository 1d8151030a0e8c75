"""Sentiment of customer text: VADER's compound score, a lexicon tuned for social media.

VADER's word lexicon is English. For a post detected in another language only
what needs no language is scored, its emoticons and emoji (":(", "🙁", "😠"),
and its words count as neutral: English valences read into other languages
mislead ("Gift" is poison in German, "bad" a bath in Dutch). No maintained
package on PyPI ships multilingual sentiment lexicons with its wheel: AFINN's
(English, Danish) dates from 2016, textblob-de and textblob-fr from 2019 and
2013, vader-multi translates over the network, and pysentimiento and the
like download transformer models at run time. So a non-English post's score
is neutral unless it carries emoticons or emoji, and scope() says which
applied (shown in the routing explanation beside the language).
"""

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

# Languages whose words VADER's lexicon scores ("" is a post whose language is unknown: scored as English,
# as every post was before languages were detected).
WORD_LANGUAGES = frozenset({"en", ""})
SCOPE_WORDS = "words, emoticons and emoji"
SCOPE_SYMBOLS = "emoticons and emoji only (no word lexicon for this language)"

# Loading the lexicon takes tens of milliseconds: build the analyzer once.
_analyzer = SentimentIntensityAnalyzer()


@lru_cache(maxsize=_CACHE_SIZE)
def _compound(text: str) -> float:
    return float(_analyzer.polarity_scores(text)["compound"])


def scope(language: str = "") -> str:
    """Return what the score of a post in this language is computed from.

    Args:
        language: the post's ISO 639-1 code, "" if unknown.

    Returns:
        SCOPE_WORDS for English (and unknown), SCOPE_SYMBOLS for every other language.
    """
    return SCOPE_WORDS if language in WORD_LANGUAGES else SCOPE_SYMBOLS


def sentiment(text: str, language: str = "") -> float:
    """Return the VADER compound sentiment of text, from -1 (most negative) to 1.

    Args:
        text: customer text; only its first MAX_CHARS characters are scored.
        language: its ISO 639-1 code ("" if unknown); outside WORD_LANGUAGES only the
            tokens without letters (emoticons, emoji) are scored.

    Returns:
        The compound score in [-1, 1]; 0.0 for empty text, or for a text in another language
        with no emoticon or emoji that VADER knows.
    """
    text = text[:MAX_CHARS].strip()
    if language not in WORD_LANGUAGES:
        text = " ".join(token for token in text.split() if not any(c.isalpha() for c in token))
    return _compound(text) if text else 0.0


def sentiments(texts: Iterable[str], languages: Iterable[str] | None = None) -> list[float]:
    """Return the compound sentiment of each text.

    Args:
        texts: customer texts.
        languages: the ISO 639-1 code of each text, in order ("" if unknown); None: all unknown.

    Returns:
        One score in [-1, 1] per text, in order.
    """
    texts = list(texts)
    languages = [""] * len(texts) if languages is None else list(languages)
    return [sentiment(t, lang) for t, lang in zip(texts, languages, strict=True)]
