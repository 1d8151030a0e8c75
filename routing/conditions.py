"""Rule conditions: JSON condition trees compiled once into predicates over a prepared post.

A condition is a JSON object. Combinators nest: ``{"all": [c, ...]}`` (every
condition holds; an empty list always holds), ``{"any": [c, ...]}`` (at least
one holds) and ``{"not": c}``. A leaf holds exactly one of these keys:

====================  =====================================================
``mention``           handle or list of handles (with or without "@"): the
                      post @-mentions one of them as a whole mention
``keywords``          list of words or phrases; ``"match": "any"`` (default)
                      or ``"all"``; whole-word, case-, accent- and
                      apostrophe-insensitive ("cant" = "can't"); punctuation
                      is ignored, so use a regex to match symbols
``phrase``            a phrase (or list: any of them), matched like keywords
``regex``             a pattern in RE2 syntax (linear time: no backreferences
                      or lookaround); ``"flags"``: letters of "ims"
                      (ignore case, multi-line, dot matches newline)
``channel``           channel slug or list of slugs
``recipient``         email address or list (any) the mail was sent to; a
                      value without "@" matches that mailbox on any domain
                      ("billing" = billing@…); +tags are ignored
``author_tag``        tag or list of tags (any), case-insensitive
``followers_at_least`` integer N
``verified``          true or false
``sentiment_at_most`` number in [-1, 1] (VADER compound)
``person_field``      a custom field's name on the customer's person (plan,
                      country, ...); with ``"equals"``: a value or list of
                      values (any, case-insensitive; numbers and booleans as
                      JSON writes them, e.g. "true"); without: the field is set
``length_at_least``   characters, integer
``length_at_most``    characters, integer
``language``          ISO 639-1 code or list of codes (any), e.g. "es" or
                      ["es", "pt"]; see routing.language.SUPPORTED
====================  =====================================================

Text conditions (mention, keywords, phrase, regex, length_*) take
``"field": "subject" | "text" | "any"`` (default "any": subject or text; for
lengths, "any" means subject and text together).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

import re2

from routing.errors import RuleError
from routing.language import language_codes
from routing.post import Post
from routing.text import TermIndex, Words, mentions

# Limits on what admins may write: they bound compile time, memory and the
# work done per post, and catch pasted garbage early.
MAX_PATTERN_CHARS = 500
MAX_TERMS = 200
MAX_TERM_CHARS = 100
MAX_LIST_ITEMS = 50
MAX_DEPTH = 8
MAX_CONDITIONS = 100

FIELDS = ("subject", "text", "any")
_REGEX_FLAGS = {"i": "i", "m": "m", "s": "s"}
_HANDLE = re.compile(r"^\w[\w.-]*$")
_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

Predicate = Callable[["PostFacts"], bool]


class PostFacts:
    """A post prepared once for all rules: raw text, folded words, mentions, tags, sentiment."""

    __slots__ = ("post", "raw", "words", "mentioned", "mention_order", "tags", "fields", "sentiment", "language")

    def __init__(self, post: Post, sentiment: float = 0.0, language: str = "") -> None:
        """Prepare a post for matching.

        Args:
            post: the post.
            sentiment: its compound sentiment score.
            language: its ISO 639-1 code ("" if unknown); the post's own language wins when set.
        """
        subject_words, text_words = Words(post.subject), Words(post.text)
        in_subject, in_text = mentions(post.subject), mentions(post.text)
        subject_mentions, text_mentions = frozenset(in_subject), frozenset(in_text)
        self.post = post
        self.raw = {"subject": (post.subject,), "text": (post.text,), "any": (post.subject, post.text)}
        self.words = {"subject": (subject_words,), "text": (text_words,), "any": (subject_words, text_words)}
        self.mentioned = {"subject": subject_mentions, "text": text_mentions, "any": subject_mentions | text_mentions}
        self.mention_order = tuple(in_subject + in_text)  # subject first: the mention fallback takes the first
        self.tags = frozenset(t.lower() for t in post.author_tags)
        self.fields = {name.lower(): value.lower() for name, value in post.author_fields}
        self.sentiment = sentiment
        self.language = post.language or language


def _string_list(
    value: object, what: str, *, limit: int = MAX_LIST_ITEMS, max_chars: int = MAX_TERM_CHARS
) -> list[str]:
    """Accept a non-empty string or list of non-empty strings, within limits."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise RuleError(f"{what} must be a non-empty string or a non-empty list of strings")
    if len(items) > limit:
        raise RuleError(f"{what} has {len(items)} entries; at most {limit} are allowed")
    out = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise RuleError(f"{what} entries must be non-empty strings, got {item!r}")
        if len(item) > max_chars:
            raise RuleError(f"{what} entry {item[:30]!r}... is {len(item)} characters; at most {max_chars} are allowed")
        out.append(item.strip())
    return out


def _number(
    value: object, what: str, *, integer: bool = False, low: float = -math.inf, high: float = math.inf
) -> float:
    """Accept a finite number (not a boolean) within [low, high]."""
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value):
        raise RuleError(f"{what} must be {'an integer' if integer else 'a number'}, got {value!r}")
    if not low <= value <= high:
        raise RuleError(f"{what} must be between {low:g} and {high:g}, got {value!r}")
    return value


def _term_index(terms: list[str], what: str) -> TermIndex:
    """Index whole-word terms (plain word lookups: no regex engine runs on them)."""
    try:
        return TermIndex(terms)
    except ValueError as exc:
        raise RuleError(f"{what}: {exc}") from exc


def _compile_regex(pattern: object, flags: object) -> re2._Regexp:
    """Compile an admin's pattern with RE2, which runs in time linear in the text."""
    if not isinstance(pattern, str) or not pattern:
        raise RuleError("regex must be a non-empty string")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise RuleError(f"regex is {len(pattern)} characters; at most {MAX_PATTERN_CHARS} are allowed")
    if not isinstance(flags, str) or any(f not in _REGEX_FLAGS for f in flags):
        raise RuleError(f"regex flags must be letters among 'ims' (ignore case, multi-line, dot-all), got {flags!r}")
    options = re2.Options()
    options.log_errors = False  # a refused pattern is reported to the admin, not logged by the C++ library
    source = f"(?{''.join(sorted(set(flags)))}){pattern}" if flags else pattern
    try:
        return re2.compile(source, options=options)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise RuleError(
            f"regex {pattern!r} cannot be used: {reason} (patterns run on RE2, which has no "
            "backreferences or lookaround, so matching stays linear-time)"
        ) from exc


def _leaf(kind: str, spec: dict) -> Predicate:
    """Compile one leaf condition of the given kind."""
    value = spec[kind]
    field = spec.get("field", "any")
    if field not in FIELDS:
        raise RuleError(f"field must be one of {', '.join(FIELDS)}, got {field!r}")

    if kind == "mention":
        handles = frozenset(h.lstrip("@").lower() for h in _string_list(value, "mention"))
        bad = [h for h in handles if not _HANDLE.match(h)]
        if bad:
            raise RuleError(f"mention {bad[0]!r} is not a handle (letters, digits, _ . -)")
        return lambda f: not handles.isdisjoint(f.mentioned[field])

    if kind in ("keywords", "phrase"):
        terms = _string_list(value, kind, limit=MAX_TERMS)
        match = spec.get("match", "any")
        if match not in ("any", "all"):
            raise RuleError(f"keywords match must be 'any' or 'all', got {match!r}")
        index = _term_index(terms, kind)
        if match == "all" and kind == "keywords":
            wanted = len(set(terms))
            return lambda f: len(index.find(f.words[field])) == wanted
        return lambda f: bool(index.find(f.words[field], first=True))

    if kind == "regex":
        compiled = _compile_regex(value, spec.get("flags", ""))
        return lambda f: any(compiled.search(s) for s in f.raw[field])

    if kind == "channel":
        channels = frozenset(c.lower() for c in _string_list(value, "channel"))
        return lambda f: f.post.channel.lower() in channels

    if kind == "recipient":
        wanted = frozenset(r.lower() for r in _string_list(value, "recipient"))
        return lambda f: any(r in wanted or r.partition("@")[0] in wanted for r in f.post.recipients)

    if kind == "author_tag":
        tags = frozenset(t.lower() for t in _string_list(value, "author_tag"))
        return lambda f: not tags.isdisjoint(f.tags)

    if kind == "person_field":
        if not isinstance(value, str) or not _FIELD_NAME.match(value):
            raise RuleError(f"person_field must be a field name (a-z, 0-9, _), got {value!r}")
        name = value.lower()
        if "equals" not in spec:
            return lambda f: bool(f.fields.get(name))
        wanted = frozenset(v.lower() for v in _string_list(spec["equals"], "equals", max_chars=500))
        return lambda f: f.fields.get(name) in wanted

    if kind == "followers_at_least":
        n = _number(value, kind, integer=True, low=0)
        return lambda f: f.post.author_followers >= n

    if kind == "verified":
        if not isinstance(value, bool):
            raise RuleError(f"verified must be true or false, got {value!r}")
        return lambda f: f.post.author_verified is value

    if kind == "sentiment_at_most":
        x = _number(value, kind, low=-1.0, high=1.0)
        return lambda f: f.sentiment <= x

    if kind in ("length_at_least", "length_at_most"):
        n = _number(value, kind, integer=True, low=0)
        at_least = kind == "length_at_least"
        return lambda f: (sum(map(len, f.raw[field])) >= n) if at_least else (sum(map(len, f.raw[field])) <= n)

    # The one leaf kind left (compile_condition lets only known kinds through): language.
    codes = _string_list(value, "language")
    try:
        languages = language_codes(codes)
    except ValueError as exc:
        raise RuleError(str(exc)) from exc
    return lambda f: f.language in languages


# Keys each leaf kind accepts besides its own.
_MODIFIERS = {
    "mention": {"field"},
    "keywords": {"field", "match"},
    "phrase": {"field"},
    "regex": {"field", "flags"},
    "length_at_least": {"field"},
    "length_at_most": {"field"},
    "channel": set(),
    "recipient": set(),
    "author_tag": set(),
    "person_field": {"equals"},
    "followers_at_least": set(),
    "verified": set(),
    "sentiment_at_most": set(),
    "language": set(),
}
_COMBINATORS = ("all", "any", "not")


def compile_condition(spec: object, *, _depth: int = 0, _count: list[int] | None = None) -> Predicate:
    """Compile a JSON condition tree into a predicate over PostFacts.

    Args:
        spec: a condition object as described in this module's docstring.

    Returns:
        A function taking PostFacts and returning whether the condition holds.

    Raises:
        RuleError: for anything invalid, with the reason.
    """
    count = _count if _count is not None else [0]
    count[0] += 1
    if count[0] > MAX_CONDITIONS:
        raise RuleError(f"a rule may have at most {MAX_CONDITIONS} conditions")
    if _depth > MAX_DEPTH:
        raise RuleError(f"conditions may nest at most {MAX_DEPTH} levels deep")
    if not isinstance(spec, dict) or not spec:
        raise RuleError(f"a condition must be a non-empty JSON object, got {spec!r}")
    kinds = [k for k in spec if k in _MODIFIERS or k in _COMBINATORS]
    if len(kinds) != 1:
        known = ", ".join(sorted(_MODIFIERS) + list(_COMBINATORS))
        found = ", ".join(map(repr, spec)) if not kinds else ", ".join(map(repr, kinds))
        reason = "unknown condition type" if not kinds else "one condition per object; got"
        raise RuleError(f"{reason} {found} (known: {known})")
    kind = kinds[0]
    extra = set(spec) - {kind} - _MODIFIERS.get(kind, set())
    if extra:
        raise RuleError(f"unknown key {sorted(extra)[0]!r} in a {kind} condition")

    if kind == "not":
        inner = compile_condition(spec["not"], _depth=_depth + 1, _count=count)
        return lambda f: not inner(f)
    if kind in ("all", "any"):
        items = spec[kind]
        if not isinstance(items, list) or (kind == "any" and not items):
            raise RuleError(f"{kind} must be a{' non-empty' if kind == 'any' else ''} list of conditions")
        parts: Sequence[Predicate] = tuple(compile_condition(c, _depth=_depth + 1, _count=count) for c in items)
        if kind == "all":
            return lambda f: all(p(f) for p in parts)
        return lambda f: any(p(f) for p in parts)
    return _leaf(kind, spec)
