"""The console's search box in a real browser: results as you type, highlighted safely, keyboard, paging, axe."""

import pytest

from tests.console.factories import serious_violations
from tests.console.test_console import post_webhook
from tests.factories import make_post

HOSTILE = '@billing walrus <img src=x onerror="window.pwned = 1"> <b>bold</b>'
# More than the box's page of 20, so "More results" has a second page to fetch.
PLAIN = 24


@pytest.fixture
def walruses(live_server):
    """PLAIN posts about a walrus in billing (one customer each), then one hostile one; returns the hostile id."""
    for number in range(PLAIN):
        post_webhook(live_server, make_post(author={"id": f"w{number}", "handle": f"fan{number}"},
                                            text=f"@billing my walrus figurine number {number} arrived broken"))
    return post_webhook(live_server, make_post(author={"id": "mallory", "handle": "mallory"}, text=HOSTILE))



def routed(page, count: int) -> None:
    """Wait until the worker has routed every post into billing (its open count says so)."""
    page.wait_for_function(
        f"() => document.querySelector('#queues li[data-queue=billing] .count-open')?.textContent === '{count} open'",
        timeout=30000)


def test_typing_shows_highlighted_results_and_the_keyboard_opens_one(open_console, walruses):
    """'/' then typing 'walru' lists the matches with the word marked; ↓ ↓ Enter opens the second; Esc closes."""
    page = open_console("ana@example.com")
    routed(page, PLAIN + 1)
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search"
    assert page.is_visible("#search-syntax")  # the syntax is one Tab away from the box
    page.keyboard.type("walru", delay=40)  # the last word matches as a prefix while it is typed
    page.wait_for_selector("#search-results [role=option]")
    assert page.get_attribute("#search", "aria-expanded") == "true"
    marks = page.eval_on_selector_all("#search-results mark", "marks => marks.map(m => m.textContent.toLowerCase())")
    assert marks and set(marks) == {"walrus"}
    assert "result" in page.inner_text("#search-status")
    assert serious_violations(page) == []

    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    second = page.eval_on_selector_all("#search-results [role=option]", "options => options[1].id")
    assert page.get_attribute("#search", "aria-activedescendant") == second
    assert page.get_attribute(f"#{second}", "aria-selected") == "true"
    chosen = int(second.removeprefix("search-option-"))
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/conversations/{chosen}")
    page.wait_for_selector("#thread .message.inbound")
    assert page.is_hidden("#search-panel")

    page.focus("#search")
    page.wait_for_selector("#search-panel", state="visible")
    page.keyboard.press("Escape")
    assert page.is_hidden("#search-panel") and page.get_attribute("#search", "aria-expanded") == "false"
    assert page.errors == []


def test_more_results_pages_on_and_a_hostile_post_is_text(open_console, walruses):
    """A first page of 20, "More results" adds the rest once each; the hostile post's markup shows as text."""
    page = open_console("ana@example.com")
    routed(page, PLAIN + 1)
    page.fill("#search", "walrus")
    page.wait_for_selector("#search-results [role=option]")
    page.wait_for_selector("#search-more", state="visible")
    first = page.eval_on_selector_all("#search-results [role=option]", "options => options.map(o => o.id)")
    assert len(first) == 20
    page.click("#search-more")
    page.wait_for_function("() => document.querySelectorAll('#search-results [role=option]').length === 25")
    every = page.eval_on_selector_all("#search-results [role=option]", "options => options.map(o => o.id)")
    assert every[:20] == first and len(set(every)) == 25 and page.is_hidden("#search-more")

    hostile = page.locator(f"#search-option-{walruses}")
    assert '<img src=x onerror="window.pwned = 1">' in hostile.inner_text() and "<b>bold</b>" in hostile.inner_text()
    assert hostile.locator("img, b").count() == 0
    assert page.evaluate("window.pwned") is None
    assert page.errors == []


def test_a_filter_it_cannot_read_says_why(open_console, walruses):
    """status:bogus answers with the server's message in the box, not a broken list."""
    page = open_console("ana@example.com")
    page.fill("#search", "walrus status:bogus")
    page.wait_for_function("() => document.querySelector('#search-status').textContent.includes('status:')")
    assert page.locator("#search-results [role=option]").count() == 0
    assert page.errors == []
