"""Saved views in a real browser: save the list's queue and filters as a view, see its count, open it."""

from tests.console.factories import serious_violations
from tests.console.test_console import post_webhook, row
from tests.factories import make_post


def test_save_a_view_see_its_count_and_open_it(open_console, live_server):
    """Ana saves billing's unassigned open conversations as a view: the sidebar shows its count (2), which
    follows a new post live, and opening it lists those conversations."""
    first = post_webhook(live_server, make_post(text="@billing refund please"))
    second = post_webhook(live_server, make_post(text="@billing charged twice", author={"id": "u2", "handle": "lee"}))
    page = open_console("ana@example.com")
    page.click('#queues li[data-queue="billing"]')
    row(page, first).wait_for(timeout=15000)
    page.select_option("#filter-assignee", "none")
    page.fill("#new-view input[name=name]", "Billing to pick up")
    page.click("#new-view button[type=submit]")
    view = page.locator('#views li:has-text("Billing to pick up")')
    view.wait_for()
    page.wait_for_function("() => document.querySelector('#views .view-count')?.textContent === '2'")
    third = post_webhook(live_server, make_post(text="@billing where is my invoice",
                                                author={"id": "u3", "handle": "kim"}))
    page.wait_for_function("() => document.querySelector('#views .view-count')?.textContent === '3'",
                           timeout=20000)
    view.locator("button").click()
    page.wait_for_function("() => document.querySelector('#list-title').textContent.startsWith("
                           "'View: Billing to pick up')")
    for conversation_id in (first, second, third):
        row(page, conversation_id).wait_for()
    assert serious_violations(page, "#sidebar") == []
    assert page.errors == []
