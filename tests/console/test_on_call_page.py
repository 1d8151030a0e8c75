"""On call and quiet hours through the pages: an admin writes a queue's rota, the dashboard names who is on
call now, and an agent sets quiet hours in their own time zone."""

import requests

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def test_an_admin_sets_the_rota_the_dashboard_shows_it_and_an_agent_sets_quiet_hours(admin_page, open_console,
                                                                                     live_server):
    """Bob on call all week for billing (two lines a day), Ana next; a line naming nobody is refused on the
    page; the supervisor's dashboard shows "Bob, then Ana"; Ana's quiet hours are saved as she typed them."""
    page = admin_page
    page.select_option("#on-call-queue", "billing")
    page.fill("#on-call-rota", "nobody@example.com mon 17:00-09:00")
    page.click("#on-call-form button")
    page.wait_for_function("() => document.querySelector('#toast').textContent.startsWith('not understood')")
    lines = [f"{who}@example.com {day} {hours}" for who in ("bob", "ana") for day in DAYS
             for hours in ("00:00-12:00", "12:00-00:00")]
    page.fill("#on-call-rota", "\n".join(lines))
    page.click("#on-call-form button")
    page.wait_for_function("() => document.querySelector('#toast').textContent === 'Rota saved'")
    # The saved rota is read back (by day, first on call first) once the save has answered.
    expected = sorted(lines, key=lambda line: (DAYS.index(line.split()[1]), line.split()[0] != "bob@example.com"))
    page.wait_for_function("(text) => document.querySelector('#on-call-rota').value === text", arg="\n".join(expected))
    assert page.input_value("#on-call-rota").splitlines() == expected

    dashboard = open_console("sam@example.com")
    dashboard.goto(f"{live_server}/dashboard")
    row = dashboard.wait_for_selector("#on-call-table tbody tr:has-text('billing')")
    assert "Bob, then Ana" in row.inner_text() and "out of hours" in row.inner_text()

    ana = open_console("ana@example.com", {"width": 390, "height": 844})
    ana.goto(f"{live_server}/account/notifications")
    ana.wait_for_function("() => document.querySelector('#push-settings [name=time_zone]').value === 'UTC'")
    ana.fill("#push-settings [name=time_zone]", "Europe/Paris")
    ana.fill("#push-settings [name=quiet_start]", "22:00")
    ana.fill("#push-settings [name=quiet_end]", "07:00")
    ana.click("#push-settings button[type=submit]")
    ana.wait_for_function("() => document.querySelector('#toast').textContent === 'Saved'")
    cookies = {c["name"]: c["value"] for c in ana.context.cookies()}
    saved = requests.get(f"{live_server}/api/v1/notifications/settings", cookies=cookies, timeout=10).json()
    assert (saved["time_zone"], saved["quiet_start"], saved["quiet_end"]) == ("Europe/Paris", "22:00", "07:00")
    assert ana.errors == [] and dashboard.errors == [] and page.errors == []
