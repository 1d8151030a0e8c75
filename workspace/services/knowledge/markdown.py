"""Article bodies: Markdown to HTML that cannot run or load anything, and plain-text excerpts.

markdown-it renders CommonMark with raw HTML off (so `<script>` stays text);
nh3 (the Rust ammonia sanitizer) then keeps only formatting tags, and links
only to http(s) and mailto, each opened with rel="noopener noreferrer nofollow".
Images are dropped: an image URL in a help article would load from anywhere.
"""

import html
import re

import nh3
from markdown_it import MarkdownIt

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False})
TAGS = {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "blockquote", "ul",
        "ol", "li", "a"}
EXCERPT_CHARS = 300


def render_markdown(text: str) -> str:
    """The article's body as HTML safe to put in a page: formatting and http(s)/mailto links only."""
    return nh3.clean(_MARKDOWN.render(text or ""), tags=TAGS, attributes={"a": {"href", "title"}},
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow")


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The article's opening as plain text (for a reply): the rendered words, whitespace folded, cut at a word."""
    plain = re.sub(r"\s+", " ", html.unescape(nh3.clean(_MARKDOWN.render(text or ""), tags=set()))).strip()
    if len(plain) <= limit:
        return plain
    return plain[:limit].rsplit(" ", 1)[0] + "…"
