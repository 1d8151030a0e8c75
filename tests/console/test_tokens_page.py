"""API tokens in a real browser: an agent issues, sees and revokes their own; an admin revokes anyone's."""

import requests

from tests.console.factories import PASSWORD, serious_violations


def test_an_agent_issues_a_scoped_token_sees_it_once_and_revokes_it(open_console, live_server):
    """From the console's "API tokens" link: issue a read-only token, use it, revoke it; no serious axe finding."""
    page = open_console("ana@example.com")
    page.click("text=API tokens")
    page.wait_for_selector("#new-token")
    # An agent's page offers only the scopes an agent's token may carry.
    assert page.eval_on_selector_all("input[name=scopes]", "boxes => boxes.map(b => b.value)") == ["read", "write"]
    page.fill("#new-token input[name=name]", "reporting script")
    page.uncheck("input[name=scopes][value=write]")
    page.click("#new-token button[type=submit]")
    page.wait_for_selector("#secret:not([hidden])")
    secret = page.text_content("#secret code")
    row = page.wait_for_selector('#tokens tr:has-text("reporting script")')
    assert "read" in row.text_content() and secret not in page.text_content("#tokens")
    headers = {"Authorization": f"Bearer {secret}"}
    assert requests.get(f"{live_server}/api/v1/queues", headers=headers, timeout=10).status_code == 200
    refused = requests.post(f"{live_server}/api/v1/conversations/next", json={}, headers=headers, timeout=10)
    assert refused.status_code == 403 and "write" in refused.json()["error"]["message"]
    assert serious_violations(page) == []
    page.once("dialog", lambda dialog: dialog.accept())
    row.query_selector("button").click()
    page.wait_for_selector('#tokens tr:has-text("reporting script") >> text=revoked')
    assert requests.get(f"{live_server}/api/v1/queues", headers=headers, timeout=10).status_code == 401


def test_an_admin_revokes_an_agents_token_from_the_admin_page(admin_page, live_server):
    """The admin picks Ana, sees her token without its secret, revokes it, and it stops working."""
    page = admin_page
    login = requests.Session()
    form = login.get(f"{live_server}/login", timeout=10).text
    csrf = form.split('name="csrf_token" value="')[1].split('"')[0]
    login.post(f"{live_server}/login", data={"email": "ana@example.com", "password": PASSWORD, "csrf_token": csrf},
               timeout=10)
    console = login.get(f"{live_server}/", timeout=10).text
    header = console.split('name="csrf-token" content="')[1].split('"')[0]
    secret = login.post(f"{live_server}/api/v1/tokens", json={"name": "ana laptop"}, headers={"X-CSRFToken": header},
                        timeout=10).json()["token"]
    page.reload()
    page.wait_for_selector("#token-agent option:has-text('ana@example.com')", state="attached")
    page.select_option("#token-agent", label="Ana (ana@example.com)")
    row = page.wait_for_selector('#agent-tokens tr:has-text("ana laptop")')
    assert secret not in page.content()
    assert serious_violations(page) == []
    page.once("dialog", lambda dialog: dialog.accept())
    row.query_selector("button").click()
    page.wait_for_selector('#agent-tokens tr:has-text("ana laptop") >> text=revoked')
    refused = requests.get(f"{live_server}/api/v1/queues", headers={"Authorization": f"Bearer {secret}"}, timeout=10)
    assert refused.status_code == 401
