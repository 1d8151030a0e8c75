"""The supervisors' dashboard in a real browser: live figures, drill-down, incidents; agents are kept out."""

from tests.console.test_console import post_webhook
from tests.console.test_macros_bulk import add_macro, dry_run_the_outage_macro, state
from tests.factories import make_post

DEPTH = '#queue-table tr[data-queue="billing"] a[data-metric="depth"]'


def test_the_dashboard_updates_in_place_when_a_post_arrives(open_console, live_server):
    """Sam watches billing at 0; a webhook post is routed and the depth turns 1 with no reload; it drills down."""
    page = open_console("sam@example.com")
    page.click("text=Dashboard")
    page.wait_for_selector("#connection.live")
    page.wait_for_selector(DEPTH)
    assert page.inner_text(DEPTH) == "0"
    page.evaluate("window.notReloaded = true")
    conversation_id = post_webhook(live_server, make_post(text="@billing my card was charged twice"))
    page.wait_for_function(f"() => document.querySelector('{DEPTH}').textContent === '1'", timeout=20_000)
    assert page.evaluate("window.notReloaded") is True
    assert page.inner_text('#queue-table tr[data-queue="billing"] a[data-metric="unassigned"]') == "1"
    assert "billing (1)" in page.inner_text("#volume-chart .legend")
    # Presence as assignment sees it (Sam's own tabs are connected) and load against capacity.
    page.wait_for_selector('#agent-table tr:has-text("Sam") td.status-online', timeout=20_000)
    assert "0 / 10" in page.inner_text('#agent-table tr:has-text("Sam") td.load')
    assert "billing 0 / no limit" in page.inner_text('#agent-table tr:has-text("Ana") td.load')
    page.click(DEPTH)
    page.wait_for_selector(f'#drilldown-rows tr[data-id="{conversation_id}"]')
    assert "charged twice" in page.inner_text("#drilldown-rows")
    assert page.errors == []


def test_a_supervisor_opens_an_incident_replies_to_all_with_a_macro_and_resolves_all(app, open_console, live_server):
    """Open an incident matching a phrase; matching posts join it live; a macro replies to both (dry run, live
    progress, undo of its tag); Resolve all, a bulk status change, closes the incident and its conversations."""
    add_macro(app)
    page = open_console("sam@example.com")
    page.goto(f"{live_server}/dashboard")
    page.wait_for_selector("#connection.live")
    page.fill("#new-incident input[name=title]", "Cards charged twice")
    page.select_option("#new-incident select[name=kind]", "phrase")
    page.fill("#new-incident input[name=value]", "charged twice")
    page.click("#new-incident button")
    row = page.wait_for_selector('#incident-table tr:has-text("Cards charged twice")')
    assert "phrase: charged twice" in row.inner_text()
    ids = [post_webhook(live_server, make_post(text=f"@billing I was charged twice again {n}",
                                               author={"id": f"c{n}", "handle": f"c{n}", "name": f"Maya{n} Lin"}))
           for n in range(2)]
    page.wait_for_function(
        "() => document.querySelector('#incident-table tbody tr').textContent.includes('(2 open)')", timeout=20_000)
    page.click("#incident-table button.reply-all")
    page.wait_for_selector("#macro-picker[open]")
    assert "2 open conversations of Cards charged twice" in page.inner_text("#macro-target")
    dry_run_the_outage_macro(page, 2)
    page.click("#bulk-run")
    page.wait_for_selector('#bulk-progress[data-state="finished"]', timeout=20_000)
    assert "2 of 2" in page.inner_text("#bulk-progress-text")
    tags, replies = state(app, ids)
    assert all(value == ["outage"] for value in tags.values()) and replies == 2
    page.click("#bulk-undo")
    page.wait_for_selector('#bulk-progress[data-state="undone"]', timeout=20_000)
    tags, replies = state(app, ids)
    assert all(value == [] for value in tags.values()) and replies == 2  # the replies stay sent
    page.click("#incident-table button.resolve-all")
    page.wait_for_selector("#bulk-dialog[open] .summary")
    assert page.inner_text("#bulk-dialog .summary").startswith("2 conversations: 2 will change")
    page.click("#bulk-run")
    page.wait_for_selector('#bulk-progress[data-state="finished"]', timeout=20_000)
    page.wait_for_selector("#incident-table tr.incident-resolved")
    page.wait_for_function(
        "() => document.querySelector('#incident-table tbody tr').textContent.includes('(0 open)')", timeout=20_000)
    page.wait_for_function(f"() => document.querySelector('{DEPTH}').textContent === '0'", timeout=20_000)
    assert page.errors == []


def test_agents_cannot_open_the_dashboard(open_console, live_server):
    """Ana has no Dashboard link and gets a 403 at /dashboard."""
    page = open_console("ana@example.com")
    assert page.locator("text=Dashboard").count() == 0
    assert page.goto(f"{live_server}/dashboard").status == 403
