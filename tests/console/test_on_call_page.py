"""On call and quiet hours through the pages: an admin edits a queue's rota in its form, the dashboard names
who is on call now, and an agent sets quiet hours in their own time zone."""

from datetime import UTC, datetime

import requests

from tests.console.factories import serious_violations
from workspace.extensions import db
from workspace.models import BusinessCalendar, Queue, SlaPolicy

FIELDS = "(list) => [...document.querySelectorAll(list + ' li')].map((row) => " \
         "[...row.querySelectorAll('select, input')].map((field) => field.value))"


def fill_row(page, row, agent: int, when: str, start: str, end: str) -> None:
    """Fill one shift row: agent, weekday (its number) or date, from and to."""
    row.locator("[name=agent]").select_option(str(agent))
    when_field = row.locator("[name=weekday], [name=date]")
    if when_field.evaluate("field => field.tagName") == "SELECT":
        when_field.select_option(when)
    else:
        when_field.fill(when)
    row.locator("[name=start]").fill(start)
    row.locator("[name=end]").fill(end)


def add_row(page, button: str):
    """Press an Add button from the keyboard; the new row's first field takes the focus."""
    page.focus(button)
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.name") == "agent"
    return page.locator(f"{'#on-call-weekly' if 'weekly' in button else '#on-call-overrides'} li").last


def test_an_admin_edits_the_rota_in_its_form_the_dashboard_shows_it_and_an_agent_sets_quiet_hours(
        app, people, root, open_console, live_server):
    """On a phone-sized page the admin adds weekly shifts and today's overrides (Bob, then Ana) row by row,
    removes one by keyboard, is told why a shift that ends as it starts is refused, and saves; the API holds
    the rows as the form showed them, a reload shows them again, the section is axe-clean and needs no
    sideways scrolling; another queue's note names its calendar's time zone; the supervisor's dashboard shows
    "Bob, then Ana"; Ana's quiet hours are saved as she typed them."""
    with app.app_context():
        paris = BusinessCalendar(name="Paris office", time_zone="Europe/Paris",
                                 hours={"mon": [["09:00", "17:00"]]}, holidays=[])
        triage = db.session.query(Queue).filter_by(slug="triage").one()
        db.session.add_all([paris, SlaPolicy(queue_id=triage.id, priority=0, first_reply_minutes=30,
                                             business_hours=True, calendar=paris)])
        db.session.commit()
    bob, ana = people["Bob"], people["Ana"]
    today = datetime.now(UTC).date().isoformat()
    page = open_console(root, {"width": 390, "height": 844})
    page.goto(f"{live_server}/admin")
    page.wait_for_selector("#on-call-queue option[value=billing]", state="attached")
    page.select_option("#on-call-queue", "triage")
    page.wait_for_function("() => document.querySelector('#on-call-calendar').textContent.includes('Europe/Paris')")
    page.select_option("#on-call-queue", "billing")
    page.wait_for_function("() => document.querySelector('#on-call-calendar').textContent.includes('UTC')")

    fill_row(page, add_row(page, "#on-call-add-weekly"), bob, "0", "17:00", "09:00")
    fill_row(page, add_row(page, "#on-call-add-weekly"), ana, "1", "18:00", "08:00")
    add_row(page, "#on-call-add-weekly")
    page.focus("#on-call-weekly li:nth-child(3) .remove")
    assert page.get_attribute("#on-call-weekly li:nth-child(3) .remove", "aria-label") == "Remove weekly shift 3"
    page.keyboard.press("Enter")
    assert page.locator("#on-call-weekly li").count() == 2
    assert page.evaluate("document.activeElement.closest('li')"
                         " === document.querySelector('#on-call-weekly li:nth-child(2)')")
    for who, hours in ((bob, ("00:00", "12:00")), (bob, ("12:00", "00:00")), (ana, ("00:00", "12:00")),
                       (ana, ("12:00", "00:00"))):
        fill_row(page, add_row(page, "#on-call-add-override"), who, today, *hours)

    page.locator("#on-call-overrides li").last.locator("[name=end]").fill("12:00")
    page.click("#on-call-form button[type=submit]")
    page.wait_for_function("() => document.querySelector('#toast').textContent.includes('start and end must differ')")
    page.locator("#on-call-overrides li").last.locator("[name=end]").fill("00:00")
    page.click("#on-call-form button[type=submit]")
    page.wait_for_function("() => document.querySelector('#toast').textContent === 'Rota saved'")

    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    saved = requests.get(f"{live_server}/api/v1/queues/billing/on-call", cookies=cookies, timeout=10).json()["data"]
    weekly = [{"agent_id": bob, "weekday": 0, "date": None, "start": "17:00", "end": "09:00", "position": 0},
              {"agent_id": ana, "weekday": 1, "date": None, "start": "18:00", "end": "08:00", "position": 0}]
    today_rows = ((bob, "00:00", "12:00"), (bob, "12:00", "00:00"), (ana, "00:00", "12:00"), (ana, "12:00", "00:00"))
    overrides = [{"agent_id": who, "weekday": None, "date": today, "start": start, "end": end, "position": position}
                 for position, (who, start, end) in enumerate(today_rows)]
    assert saved == weekly + overrides

    page.reload()
    page.wait_for_selector("#on-call-queue option[value=billing]", state="attached")
    page.select_option("#on-call-queue", "billing")
    page.wait_for_selector("#on-call-overrides li:nth-child(4)")
    assert page.evaluate(FIELDS, "#on-call-weekly") == [[str(bob), "0", "17:00", "09:00"],
                                                        [str(ana), "1", "18:00", "08:00"]]
    assert page.evaluate(FIELDS, "#on-call-overrides") == [[str(who), today, start, end]
                                                           for who, start, end in today_rows]
    assert serious_violations(page, "#on-call") == []
    assert page.evaluate("(() => { const s = document.querySelector('#on-call'); "
                         "return s.scrollWidth <= s.clientWidth; })()")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    dashboard = open_console("sam@example.com")
    dashboard.goto(f"{live_server}/dashboard")
    row = dashboard.wait_for_selector("#on-call-table tbody tr:has-text('billing')")
    assert "Bob, then Ana" in row.inner_text() and "out of hours" in row.inner_text()

    ana_page = open_console("ana@example.com", {"width": 390, "height": 844})
    ana_page.goto(f"{live_server}/account/notifications")
    ana_page.wait_for_function("() => document.querySelector('#push-settings [name=time_zone]').value === 'UTC'")
    ana_page.fill("#push-settings [name=time_zone]", "Europe/Paris")
    ana_page.fill("#push-settings [name=quiet_start]", "22:00")
    ana_page.fill("#push-settings [name=quiet_end]", "07:00")
    ana_page.click("#push-settings button[type=submit]")
    ana_page.wait_for_function("() => document.querySelector('#toast').textContent === 'Saved'")
    cookies = {c["name"]: c["value"] for c in ana_page.context.cookies()}
    settings = requests.get(f"{live_server}/api/v1/notifications/settings", cookies=cookies, timeout=10).json()
    assert (settings["time_zone"], settings["quiet_start"], settings["quiet_end"]) == ("Europe/Paris", "22:00", "07:00")
    assert ana_page.errors == [] and dashboard.errors == [] and page.errors == []
