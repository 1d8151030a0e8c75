"""Plain text from a platform's rendered HTML (Discourse `cooked`, Khoros `body`).

Post HTML is untrusted: scripts, styles and other non-content elements are
dropped with their contents, tags become line breaks where they break lines,
and entities are decoded. The result is stored and shown as text, never HTML.
"""

import re
from html.parser import HTMLParser

# Elements whose content is never post text.
SKIPPED = frozenset({"script", "style", "template", "noscript", "iframe", "object", "svg", "math", "head", "title"})
# Elements that start a new line of text.
BLOCKS = frozenset({"p", "div", "br", "li", "ul", "ol", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6",
                    "tr", "table", "hr", "aside", "section", "article", "details", "summary", "figure"})
VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "wbr"})


class _TextParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping: list[str] = []

    def handle_starttag(self, tag, attrs):
        if self.skipping or tag in SKIPPED:
            if tag not in VOID:
                self.skipping.append(tag)
            return
        if tag in BLOCKS:
            self.parts.append("\n")
        elif tag == "img":
            alt = dict(attrs).get("alt")  # Discourse renders emoji as <img alt=":smile:">
            if alt:
                self.parts.append(alt)

    def handle_endtag(self, tag):
        if self.skipping:
            if tag == self.skipping[-1]:
                self.skipping.pop()
            return
        if tag in BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Return the readable text of an HTML fragment (scripts and styles dropped, entities decoded)."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    lines = (re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in "".join(parser.parts).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
