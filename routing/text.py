"""Text helpers shared by rules, priority and the router: folding, words, terms and @-mentions."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Curly quotes typed by phones and word processors; folded to ASCII so that
# "can’t" and "can't" match the same term.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})

# An @-mention: not preceded by a word character or '@' (so e-mail addresses
# such as bob@billing.com are not mentions); handles may contain . and -.
_MENTION = re.compile(r"(?<![\w@])@(\w[\w.-]*)")
_WORD = re.compile(r"\w+")


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


class Words:
    """A text's folded words, as a sequence (for phrases) and a set (for quick rejection)."""

    __slots__ = ("seq", "set")

    def __init__(self, text: str) -> None:
        """Split text into folded words; apostrophes are dropped, so "can't" is the word "cant".

        Args:
            text: any text.
        """
        self.seq: tuple[str, ...] = tuple(_WORD.findall(fold(text).replace("'", "")))
        self.set: frozenset[str] = frozenset(self.seq)


class TermIndex:
    """Words and phrases indexed by their first word, found in a text's words in one pass.

    Matching is whole-word, case-, accent- and apostrophe-insensitive, and a
    phrase matches its words in sequence whatever the spacing or punctuation
    between them. Punctuation inside a term is ignored ("e-mail" is the words
    "e" "mail"); patterns with symbols belong in regex conditions.
    """

    __slots__ = ("_by_first", "_first", "_names")

    def __init__(self, terms: Iterable[str]) -> None:
        """Index terms.

        Args:
            terms: words or phrases.

        Raises:
            ValueError: if a term has no words (only punctuation or spaces).
        """
        self._by_first: dict[str, list[tuple[str, ...]]] = {}
        self._names: dict[tuple[str, ...], str] = {}
        for term in terms:
            key = Words(term).seq
            if not key:
                raise ValueError(f"{term!r} has no words (letters or digits)")
            if key not in self._names:
                self._names[key] = term
                self._by_first.setdefault(key[0], []).append(key)
        self._first = frozenset(self._by_first)

    def find(self, texts: Iterable[Words], *, first: bool = False) -> list[str]:
        """Return the terms found in the texts, in order of appearance, each once.

        Args:
            texts: the Words of each text searched (a phrase never spans two texts).
            first: stop at the first term found.

        Returns:
            The terms as they were given to the index.
        """
        found: list[str] = []
        for words in texts:
            present = words.set & self._first  # C-speed rejection of most texts
            if not present:
                continue
            seq = words.seq
            for i, word in enumerate(seq):
                if word not in present:
                    continue
                for key in self._by_first[word]:
                    if seq[i : i + len(key)] == key and self._names[key] not in found:
                        found.append(self._names[key])
                        if first:
                            return found
        return found


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
