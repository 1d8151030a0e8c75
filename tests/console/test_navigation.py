"""Getting around in a real browser: pages refused or missing answer people with a page, scripts with JSON;
every page but the console carries the same links and Sign out."""

import requests

SHARED_NAV = ("/dashboard", "/qa", "/admin", "/reviews", "/account/security", "/tokens")


def test_an_agent_refused_a_page_sees_a_page_and_a_script_gets_json(open_console, live_server):
    """Ana (an agent) opening /dashboard or /admin, or a page that does not exist, gets an HTML page that says
    so with a way back; the same addresses asked for JSON (or the API) answer in the one error shape."""
    page = open_console("ana@example.com")
    for path, status, title in (("/dashboard", 403, "Not allowed"), ("/admin", 403, "Not allowed"),
                                ("/no-such-page", 404, "Page not found")):
        response = page.goto(f"{live_server}{path}")
        assert response.status == status and "text/html" in response.headers["content-type"]
        assert page.inner_text("h1") == title
        assert page.get_by_role("link", name="Back to the console").is_visible()
    page.get_by_role("link", name="Back to the console").click()
    page.wait_for_selector("#queues li")
    answer = requests.get(f"{live_server}/no-such-page", headers={"Accept": "application/json"}, timeout=10)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"
    api = page.evaluate("fetch('/api/v1/no-such-thing', {headers: {Accept: 'text/html'}})"
                        ".then(async (r) => [r.status, await r.json()])")
    assert api[0] == 404 and "error" in api[1]
    assert page.errors == []


def test_every_page_has_the_same_way_around_and_sign_out(root, open_console, live_server):
    """An admin finds Console, Dashboard, Admin and Sign out on each page, the current one marked; Sign out
    from the dashboard signs out."""
    page = open_console(root)
    for path in SHARED_NAV:
        page.goto(f"{live_server}{path}")
        nav = page.get_by_role("navigation", name="Switchboard")
        for name in ("Console", "Dashboard", "Admin", "My reviews"):
            assert nav.get_by_role("link", name=name).count() == 1, (path, name)
        assert nav.get_by_role("button", name="Sign out").is_visible(), path
        current = nav.locator("a[aria-current=page]")
        assert current.count() == 1 and current.get_attribute("href") == path, path
    page.goto(f"{live_server}/dashboard")
    page.get_by_role("navigation", name="Switchboard").get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server}/login*")
    assert page.errors == []
