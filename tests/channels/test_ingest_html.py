"""Post HTML from platforms becomes plain text: content kept, active and hidden content dropped."""

import pytest

from workspace.channels.html import html_to_text


@pytest.mark.parametrize("html,text", [
    ("<p>Hello &amp; welcome</p>", "Hello & welcome"),
    ("<p>one</p><p>two<br>three</p>", "one\n\ntwo\nthree"),
    ('<p>ok</p><script>alert("x")</script><style>p { color: red }</style>', "ok"),
    ("<div>a<script>never<b>ever</b></script>b</div>", "ab"),
    ("<p>open <script>unterminated", "open"),
    ('<svg><script>x()</script><text>hidden</text></svg><p>seen</p>', "seen"),
    ('<iframe src="https://evil.example">fallback</iframe>kept', "kept"),
    ('<p><img src="/e/smile.png" alt=":smile:"> thanks</p>', ":smile: thanks"),
    ("<ul><li>first</li><li>second</li></ul>", "first\n\nsecond"),
    ("&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>"),
])
def test_html_becomes_text(html, text):
    """Scripts, styles, frames and SVG are dropped with their content; entities decode to text."""
    assert html_to_text(html) == text
