"""The search box's small syntax: words, "quoted phrases" and filters such as from:@maya, status:open or lang:es.

Parsing never fails on what a user might type mid-word: unknown `key:value`
pairs are words, stray quotes close themselves, control characters and NUL are
dropped, and every term is reduced to runs of letters and digits, the tokens
both databases index, so nothing typed reaches FTS5 or tsquery syntax. Only a
filter with a value that cannot mean anything (status:bogus, after:someday) or
an over-long query is refused, with a message saying which.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from routing.language import SUPPORTED
from workspace.errors import ValidationError
from workspace.models import STATUSES

# Longer input is refused; no one types this much into a search box.
MAX_QUERY_CHARS = 500
# Words and phrase words beyond this many are ignored (each is one more index lookup).
MAX_TERMS = 12
FILTERS = ("from", "tag", "status", "queue", "channel", "lang", "before", "after")

# What both indexes call a token: a run of letters or digits (FTS5's unicode61 and
# PostgreSQL's "simple" parser both split on underscores and punctuation).
TOKEN = re.compile(r"[^\W_]+")
# A quoted phrase, a key:value pair (the value may be quoted), or a bare word.
PART = re.compile(r'"(?P<phrase>[^"]*)"?|(?P<key>[A-Za-z]+):(?:"(?P<quoted>[^"]*)"?|(?P<value>\S*))|(?P<word>\S+)')
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass
class SearchQuery:
    """A parsed search: the words and phrases to match, and the filters to apply."""

    words: list[str] = field(default_factory=list)
    phrases: list[list[str]] = field(default_factory=list)
    # A single bare word that may be a customer's handle or name (a search for "maya" finds her).
    person: str | None = None
    author_handle: str | None = None
    tag: str | None = None
    status: str | None = None
    queue: str | None = None
    channel: str | None = None
    language: str | None = None  # ISO 639-1 code (lang:es)
    before: datetime | None = None
    after: datetime | None = None
    # The last bare word matches as a prefix while the agent is still typing it.
    prefix_last: bool = True

    @property
    def has_text(self) -> bool:
        """Whether there is anything to look up in the text index."""
        return bool(self.words or self.phrases)

    @property
    def has_filter(self) -> bool:
        """Whether any filter narrows the search."""
        return any((self.author_handle, self.tag, self.status, self.queue, self.channel, self.language, self.before,
                    self.after))

    def terms(self) -> list[str]:
        """Every word to highlight in a snippet."""
        return [*self.words, *(word for phrase in self.phrases for word in phrase)]


def parse(text: str) -> SearchQuery:
    """Parse what an agent typed into a SearchQuery.

    Args:
        text: the raw query string (untrusted).

    Returns:
        The query; empty when nothing searchable was typed.

    Raises:
        ValidationError: the query is too long, or a filter's value is not one it accepts.
    """
    if len(text) > MAX_QUERY_CHARS:
        raise ValidationError(f"q: at most {MAX_QUERY_CHARS} characters", code="invalid_field")
    text = CONTROL.sub(" ", text)
    query = SearchQuery()
    bare = []
    for match in PART.finditer(text):
        # Only a bare word typed last, with nothing after it, may be a word still being typed.
        query.prefix_last = match.group("word") is not None and match.end() == len(text)
        if match.group("key") is not None and match.group("key").lower() in FILTERS:
            value = match.group("quoted") if match.group("quoted") is not None else match.group("value")
            _apply_filter(query, match.group("key").lower(), value.strip())
        elif match.group("phrase") is not None:
            words = TOKEN.findall(match.group("phrase").lower())
            if len(words) == 1:
                query.words.append(words[0])
            elif words:
                query.phrases.append(words)
        else:
            raw = match.group(0)
            bare.append(raw)
            query.words.extend(TOKEN.findall(raw.lower()))
    if len(bare) == 1 and not query.phrases:
        query.person = bare[0].lstrip("@").lower() or None
    _cap(query)
    return query


def _apply_filter(query: SearchQuery, key: str, value: str) -> None:
    if not value:
        return  # "status:" while still typing
    lowered = value.lower()
    if key == "from":
        query.author_handle = lowered.lstrip("@") or None
    elif key == "status":
        if lowered not in STATUSES:
            raise ValidationError(f"status: one of {', '.join(STATUSES)}", code="invalid_field")
        query.status = lowered
    elif key == "lang":
        if lowered not in SUPPORTED:
            raise ValidationError(f"lang: one of {', '.join(SUPPORTED)}", code="invalid_field")
        query.language = lowered
    elif key in ("before", "after"):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ValidationError(f"{key}: a date such as 2026-03-01", code="invalid_field")
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        # before: posted before that day began; after: posted on that day or later.
        if key == "before":
            query.before = start
        else:
            query.after = start
    else:
        setattr(query, key, lowered)


def _cap(query: SearchQuery) -> None:
    """Keep at most MAX_TERMS words in all, dropping repeats."""
    seen, words = set(), []
    for word in query.words:
        if word not in seen:
            seen.add(word)
            words.append(word)
    budget = MAX_TERMS
    query.words = words[:budget]
    budget -= len(query.words)
    phrases = []
    for phrase in query.phrases:
        if budget < len(phrase):
            break
        phrases.append(phrase)
        budget -= len(phrase)
    query.phrases = phrases
