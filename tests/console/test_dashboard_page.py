"""The supervisors' dashboard in a real browser: live figures, drill-down, incidents; agents are kept out."""

from tests.conftest import make_post
from tests.console.test_console import post_webhook

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
    page.wait_for_function(f"document.querySelector('{DEPTH}').textContent === '1'", timeout=20_000)
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


def test_a_supervisor_opens_and_resolves_an_incident_from_the_dashboard(open_console, live_server):
    """Open an incident matching a phrase; a matching post joins it live; Resolve all closes its conversation."""
    page = open_console("sam@example.com")
    page.goto(f"{live_server}/dashboard")
    page.wait_for_selector("#connection.live")
    page.fill("#new-incident input[name=title]", "Cards charged twice")
    page.select_option("#new-incident select[name=kind]", "phrase")
    page.fill("#new-incident input[name=value]", "charged twice")
    page.click("#new-incident button")
    row = page.wait_for_selector('#incident-table tr:has-text("Cards charged twice")')
    assert "phrase: charged twice" in row.inner_text()
    post_webhook(live_server, make_post(text="@billing I was charged twice again"))
    page.wait_for_function(
        "document.querySelector('#incident-table tbody tr').textContent.includes('(1 open)')", timeout=20_000)
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#incident-table button.resolve-all")
    page.wait_for_selector("#incident-table tr.incident-resolved")
    page.wait_for_function(f"document.querySelector('{DEPTH}').textContent === '0'", timeout=20_000)
    assert page.errors == []


def test_agents_cannot_open_the_dashboard(open_console, live_server):
    """Ana has no Dashboard link and gets a 403 at /dashboard."""
    page = open_console("ana@example.com")
    assert page.locator("text=Dashboard").count() == 0
    assert page.goto(f"{live_server}/dashboard").status == 403
