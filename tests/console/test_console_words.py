"""What the console says, in a real browser: numbers with their units, sentiment in words, exact times on
hover, a note that says it is a note and ends after one, notes edited in place, long posts folded."""

from tests.console.test_console import post_webhook, row
from tests.factories import make_post

LONG_POST = "@billing " + "This is the story of my invoice, line after line. " * 2000  # about 100 KB


def test_the_console_says_what_its_numbers_and_modes_mean(open_console, live_server):
    """Queue counts and followers carry their units, sentiment is a word, a time shows the exact time on hover;
    note mode has its own words and the composer returns to replying after one note; a customer's note is
    edited where it is; a 100 KB post is folded with the composer in view until it is unfolded."""
    angry = post_webhook(live_server, make_post(text="@billing This is terrible, awful service, I hate it",
                                                author={"id": "fol", "handle": "fol", "followers": 68}))
    long = post_webhook(live_server, make_post(text=LONG_POST, author={"id": "long", "handle": "long"}))
    page = open_console("ana@example.com")
    page.click('#queues li[data-queue="billing"]')
    row(page, angry).wait_for(timeout=30000)
    row(page, long).wait_for(timeout=30000)
    assert page.inner_text('#queues li[data-queue="billing"] .count-open') == "2 open"
    assert page.inner_text('#queues li[data-queue="billing"] .count-unassigned') == "2 unassigned"
    angry_row = row(page, angry)
    assert "68 followers" in angry_row.inner_text()
    assert angry_row.locator(".sentiment").inner_text() in ("negative", "very negative")
    assert "sentiment score" in angry_row.locator(".sentiment").get_attribute("title")
    assert angry_row.locator(".age").inner_text().startswith("last post ")
    assert angry_row.locator(".age").get_attribute("title").startswith("last post ")

    # A note says it is one, and the next message is a reply again.
    angry_row.click()
    page.wait_for_selector("#thread .message.inbound")
    assert page.locator("#thread .message time").first.get_attribute("title")
    page.keyboard.press("i")
    assert page.inner_text("#send-reply") == "Add note" and "internal note" in page.get_attribute(
        "#reply-text", "placeholder")
    page.fill("#reply-text", "Customer is upset, be gentle")
    page.click("#send-reply")
    page.wait_for_selector("#thread .message.note")
    page.wait_for_function("() => document.querySelector('#send-reply').textContent === 'Send'")
    assert page.is_checked('input[name="kind"][value="reply"]')

    # A customer note is edited in place: no browser dialog.
    page.on("dialog", lambda dialog: (_ for _ in ()).throw(AssertionError(f"a dialog opened: {dialog.message}")))
    page.fill("#cust-note", "Prefers email")
    page.click("#cust-note-form button[type=submit]")
    page.wait_for_selector("#cust-notes li .edit-note")
    page.click("#cust-notes li .edit-note")
    page.fill("#cust-notes textarea.note-edit", "Prefers email, never calls")
    page.click("#cust-notes .note-edit-form button[type=submit]")
    page.wait_for_function("() => document.querySelector('#cust-notes .note-text')?.textContent"
                           " === 'Prefers email, never calls'")

    # A 100 KB post is folded: the composer is on screen with it; unfolding shows it all.
    row(page, long).click()
    page.wait_for_selector("#thread .message.inbound .unfold")
    assert page.locator("#reply-text").is_visible()
    assert page.evaluate("document.querySelector('#thread .message.inbound .text').scrollHeight"
                         " > document.querySelector('#thread .message.inbound .text').clientHeight")
    assert page.evaluate("""() => { const box = document.querySelector('#reply-text').getBoundingClientRect();
                                    return box.bottom <= window.innerHeight && box.top >= 0; }""")
    page.click("#thread .message.inbound .unfold")
    assert page.get_attribute("#thread .message.inbound .unfold", "aria-expanded") == "true"
    assert page.errors == []
