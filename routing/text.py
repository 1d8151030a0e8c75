"""Text helpers shared by rules, priority and the router: folding, terms and @-mentions."""

from __future__ import annotations

import re
import unicodedata

# Curly quotes typed by phones and word processors; folded to ASCII so that
# "can’t" and "can't" match the same term.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})

# An @-mention: not preceded by a word character or '@' (so e-mail addresses
# such as bob@billing.com are not mentions); handles may contain . and -.
_MENTION = re.compile(r"(?<![\w@])@(\w[\w.-]*)")


def fold(text: str) -> str:
    """Return text lower-cased, accent-stripped and with ASCII apostrophes, for matching.

    Args:
        text: any text.

    Returns:
        The folded text, e.g. "Café can’t" -> "cafe can't".
    """
    if text.isascii():
        return text.lower().replace("`", "'")
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def term_pattern(term: str) -> str:
    """Return a regular expression matching a word or phrase as whole words in folded text.

    Words are separated by any run of whitespace, and an apostrophe is optional
    (so "can't" also matches "cant"), since customers type both.

    Args:
        term: a word or phrase, e.g. "charged twice".

    Returns:
        A Python regular expression source (literal parts escaped).

    Raises:
        ValueError: if the term has no words.
    """
    words = fold(term).split()
    if not words:
        raise ValueError("empty term")
    parts = [re.escape(w).replace("'", "'?") for w in words]
    return r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)"


def mentions(text: str) -> list[str]:
    """Return the @-mentioned handles in text, lower-cased, in order of appearance.

    Args:
        text: any text.

    Returns:
        Handles without the '@' and without trailing punctuation, e.g. ["billing"].
    """
    if "@" not in text:
        return []
    return [m.rstrip(".-").lower() for m in _MENTION.findall(text)]


# Cap on the text fed to the classifier: the opening of a thread says what it is
# about, and TF-IDF cost grows with length, so a pasted log cannot slow a batch.
MODEL_TEXT_MAX_CHARS = 5_000


def model_text(post) -> str:
    """Compose the classifier's input from a post, identically for training and prediction.

    Args:
        post: a routing.Post (anything with subject, text and channel).

    Returns:
        Subject and text on separate lines, then a channel token when the channel
        is known (so the model can learn per-channel habits), at most
        MODEL_TEXT_MAX_CHARS characters of subject and text.
    """
    body = f"{post.subject}\n{post.text}" if post.subject else post.text
    body = body[:MODEL_TEXT_MAX_CHARS]
    return f"{body}\nchannel_{post.channel}" if post.channel else body
