"""Search snippets: the window of a post around its first match, as plain-text pieces or safe HTML."""

import re

from markupsafe import Markup, escape

# Characters of context a snippet shows around the first match.
SNIPPET_CHARS = 180
SNIPPET_LEAD = 50


def snippet_parts(text: str, terms: list[str], *, prefix: str | None = None) -> list[tuple[str, bool]]:
    """A window of text around the first matched term, as (text, matched) pieces in order.

    Args:
        text: the post's text (untrusted: returned as plain text, for the caller to escape or set as text).
        terms: the lower-case tokens to mark, as whole words.
        prefix: a token to mark also at the start of a longer word (the word still being typed).

    Returns:
        The window's pieces, each a matched word or the plain text between; an ellipsis opens or
        closes the plain pieces where the window cuts the text.
    """
    pattern = term_pattern(terms, prefix)
    first = pattern.search(text) if pattern else None
    start = max(0, first.start() - SNIPPET_LEAD) if first else 0
    if start:  # begin at a word boundary
        space = text.find(" ", start, first.start())
        start = space + 1 if space != -1 else start
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > (first.end() if first else start) else end
    window = text[start:end]
    pieces, position = [("…" if start else "", False)], 0
    for match in (pattern.finditer(window) if pattern else ()):
        pieces += [(window[position:match.start()], False), (window[match.start():match.end()], True)]
        position = match.end()
    pieces.append((window[position:] + ("…" if end < len(text) else ""), False))
    return [(piece, marked) for piece, marked in pieces if piece]


def highlight(text: str, terms: list[str], *, prefix: str | None = None) -> str:
    """The snippet_parts of a text as safe HTML: everything escaped, each matched word in <mark>."""
    return as_html(snippet_parts(text, terms, prefix=prefix))


def as_html(parts: list[tuple[str, bool]]) -> str:
    """Snippet pieces as safe HTML: every piece escaped, the matched ones in <mark>."""
    return str(Markup("").join(Markup("<mark>%s</mark>") % piece if marked else escape(piece)
                               for piece, marked in parts))


def term_pattern(terms: list[str], prefix: str | None) -> re.Pattern | None:
    """The pattern that finds the terms as whole tokens (and the prefix at a token's start), or None."""
    alternatives = [re.escape(term) for term in terms] + ([re.escape(prefix) + r"[^\W_]*"] if prefix else [])
    if not alternatives:
        return None
    # A term matches at token boundaries, as the index tokenizes (letters and digits only).
    return re.compile(r"(?<![^\W_])(?:" + "|".join(sorted(alternatives, key=len, reverse=True)) + r")(?![^\W_])",
                      re.IGNORECASE)
