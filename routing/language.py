"""Language of customer text, detected offline by lingua (its models ship inside the package).

Only the languages Switchboard supports are considered: a smaller set is both
faster and more accurate on short posts than lingua's full 75 (a post is told
from 19 candidates, not from every language it resembles). Detection runs in
lingua's low-accuracy mode, which uses trigrams only: on the short sentences of
lingua's own test data for these languages it is within about a point of the
high-accuracy mode and several times faster (bench/language.py measures both).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

# ISO 639-1 codes of the languages detected, with their English names (for rule
# editors and the console). Chosen for a global community: the most spoken
# languages online, in scripts lingua tells apart reliably.
SUPPORTED: dict[str, str] = {
    "ar": "Arabic",
    "de": "German",
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "hi": "Hindi",
    "id": "Indonesian",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "nl": "Dutch",
    "pl": "Polish",
    "pt": "Portuguese",
    "ru": "Russian",
    "sv": "Swedish",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "vi": "Vietnamese",
    "zh": "Chinese",
}

# Text beyond this is not looked at: the opening of a post says which language it
# is in, and detection cost grows with length.
MAX_CHARS = 500


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    """Build the detector once per process (models preloaded, so no first-post stall)."""
    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in SUPPORTED]
    return (LanguageDetectorBuilder.from_languages(*languages)
            .with_low_accuracy_mode().with_preloaded_language_models().build())


def _code(language: Language | None) -> str:
    return language.iso_code_639_1.name.lower() if language is not None else ""


def detect(text: str) -> str:
    """Return the ISO 639-1 code of text's language, or "" when it has no letters to tell from.

    Args:
        text: any text; only its first MAX_CHARS characters are looked at.

    Returns:
        A key of SUPPORTED, or "".
    """
    text = text[:MAX_CHARS]
    return _code(_detector().detect_language_of(text)) if any(c.isalpha() for c in text) else ""


def detect_many(texts: Sequence[str]) -> list[str]:
    """Return the language of each text (as detect()), detected in one parallel batch.

    Args:
        texts: any texts.

    Returns:
        One ISO 639-1 code (or "") per text, in order.
    """
    clipped = [t[:MAX_CHARS] for t in texts]
    found = _detector().detect_languages_in_parallel_of(clipped) if clipped else []
    return [_code(lang) if any(c.isalpha() for c in text) else "" for text, lang in zip(clipped, found, strict=True)]


def language_codes(values: Sequence[str]) -> frozenset[str]:
    """Normalise language codes written by an admin, refusing unknown ones.

    Args:
        values: ISO 639-1 codes, any case.

    Returns:
        The lower-cased codes.

    Raises:
        ValueError: naming the first code that is not supported.
    """
    codes = frozenset(v.strip().lower() for v in values)
    unknown = sorted(codes - SUPPORTED.keys())
    if unknown:
        raise ValueError(f"language {unknown[0]!r} is not supported (supported: {', '.join(SUPPORTED)})")
    return codes
