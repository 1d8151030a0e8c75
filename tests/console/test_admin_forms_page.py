"""The admin page's editors in a real browser: reply targets set in one place (the SLA policies, which the queue
table links to), a business-hours calendar and a macro's actions as forms that round-trip the API's JSON."""

import sqlalchemy as sa

from tests.console.factories import serious_violations
from workspace.extensions import db
from workspace.models import BusinessCalendar, Macro, Queue, SlaPolicy

SPLIT_HOURS = {"mon": [["08:00", "12:00"], ["13:00", "24:00"]], "sat": [["10:00", "14:00"]]}
HOLIDAYS = [{"name": "Boxing Day", "start": "2026-12-26", "end": "2026-12-27"},
            {"name": "Move", "start": "2026-06-01T14:00:00+00:00", "end": "2026-06-01T18:00:00+00:00"}]
ACTIONS = [{"type": "reply"}, {"type": "add_tags", "tags": ["outage", "vip"]}, {"type": "move", "queue": "tech"},
           {"type": "priority", "priority": "urgent"}, {"type": "assign", "assignee": None},
           {"type": "snooze", "until": "2026-12-01T09:00:00Z"}, {"type": "escalate"}]


def test_sla_targets_have_one_editor_which_the_queue_table_links_to(app, admin_page):
    """The queue table has no SLA minutes to type, only a link to the policies; every queue and level is listed
    there with what applies (its plain target without a policy), and a row's edit loads it into the one form."""
    page = admin_page
    page.wait_for_selector('#policies tr[data-queue="billing"][data-level="urgent"]')
    assert page.locator("#queues-admin input[aria-label^='SLA']").count() == 0
    assert page.locator("#policies tbody tr").count() == 3 * 4
    assert "30 min (no policy)" in page.inner_text('#policies tr[data-queue="billing"][data-level="urgent"]')
    # By keyboard: the queue's link leads to the policy form with that queue chosen.
    page.focus('#queues-admin tr[data-slug="tech"] a[data-sla-queue]')
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.name") == "queue"
    assert page.eval_on_selector("#new-policy select[name=queue]", "s => s.value") == "tech"
    page.click('#policies tr[data-queue="billing"][data-level="high"] button:text("edit")')
    assert page.eval_on_selector("#new-policy input[name=first_reply_minutes]", "i => i.value") == "120"
    page.fill("#new-policy input[name=first_reply_minutes]", "45")
    page.click("#new-policy button[type=submit]")
    high = '#policies tr[data-queue="billing"][data-level="high"]'
    page.wait_for_selector(f'{high}[data-policy="yes"]:has-text("45 min")')
    with app.app_context():
        policy = db.session.scalar(sa.select(SlaPolicy))
        assert (policy.queue.slug, policy.priority, policy.first_reply_minutes) == ("billing", 1, 45)
    assert page.errors == []


def test_a_calendar_is_edited_as_a_form_and_keeps_every_part_of_its_json(app, admin_page):
    """A calendar with split hours, a day open till midnight, an all-day holiday and a timed closure, opened in
    the form and saved with one change, comes back exactly as it was but for that change."""
    with app.app_context():
        db.session.add(BusinessCalendar(name="Paris office", time_zone="Europe/Paris", hours=SPLIT_HOURS,
                                        holidays=HOLIDAYS))
        db.session.commit()
    page = admin_page
    page.reload()
    page.click('#calendars tr:has-text("Paris office") button:text("edit")')
    form = page.locator("#new-calendar")
    assert form.locator("select[name=time_zone]").input_value() == "Europe/Paris"
    assert form.locator('ol.windows[data-day="mon"] li').count() == 2
    # Sunday gains hours (by keyboard), Saturday loses its own; a holiday is added.
    page.focus("button[aria-label='Add opening hours on Sunday']")
    page.keyboard.press("Enter")
    page.keyboard.press("Control+A")
    page.keyboard.type("11:00")
    page.click("button[aria-label='Remove these Saturday hours']")
    page.click("#calendar-add-holiday")
    page.keyboard.type("Christmas")
    page.locator("#calendar-holidays li").last.locator(".holiday-start").fill("2026-12-25")
    form.locator("select[name=time_zone]").select_option("America/New_York")
    page.click("#calendar-save")
    page.wait_for_selector('#calendars tr:has-text("America/New_York")')
    with app.app_context():
        calendar = db.session.scalar(sa.select(BusinessCalendar))
        assert calendar.time_zone == "America/New_York"
        assert calendar.hours == {"mon": SPLIT_HOURS["mon"], "sun": [["11:00", "17:00"]]}
        assert calendar.holidays == [*HOLIDAYS, {"name": "Christmas", "start": "2026-12-25", "end": "2026-12-26"}]
        assert db.session.scalar(sa.select(sa.func.count(BusinessCalendar.id))) == 1
    assert serious_violations(page, "#new-calendar") == []
    assert page.errors == []


def test_a_calendar_time_the_server_cannot_read_is_refused_and_nothing_changes(app, admin_page):
    """A window typed as 25:00 is turned away by the browser's own check or the server's, never stored."""
    page = admin_page
    page.fill("#new-calendar input[name=name]", "Night shift")
    page.locator('ol.windows[data-day="mon"] input.clock').last.fill("25:00")
    page.click("#calendar-save")
    assert page.evaluate("document.querySelector('#new-calendar').checkValidity()") is False
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(BusinessCalendar.id))) == 0


def test_a_macros_actions_are_rows_of_a_form_that_round_trip_its_json(app, admin_page):
    """A macro with every kind of field opens as action rows; an added and a removed row are saved as the API's
    JSON list, the rest unchanged."""
    with app.app_context():
        db.session.add(Macro(name="Outage", template="We are on it.", actions=ACTIONS, scope="global"))
        db.session.commit()
        tech = db.session.scalar(sa.select(Queue.slug).where(Queue.slug == "tech"))
    page = admin_page
    page.reload()
    page.click('#macros-admin tr:has-text("Outage") button:text("edit")')
    rows = page.locator("#macro-actions li")
    assert rows.count() == len(ACTIONS)
    assert rows.nth(2).locator(".value").input_value() == tech
    rows.nth(3).locator("button:text('remove')").click()
    page.click("#macro-add-action")
    added = page.locator("#macro-actions li").last
    added.locator(".kind").select_option("tag_customer")
    added.locator(".value").fill("vip, press")
    # Escalate must come last: the server refuses the added row after it, and the macro stays as it was.
    page.click("#macro-save")
    page.wait_for_function("() => document.querySelector('#toast').textContent.includes('escalate must be the last')")
    with app.app_context():
        assert db.session.scalar(sa.select(Macro.actions)) == ACTIONS
    page.locator("#macro-actions li").last.locator("button:text('up')").click()
    page.click("#macro-save")
    page.wait_for_function("() => document.querySelector('#toast').textContent === 'Macro saved'")
    with app.app_context():
        saved = db.session.scalar(sa.select(Macro.actions))
    assert saved == [*ACTIONS[:3], *ACTIONS[4:6], {"type": "tag_customer", "tags": ["press", "vip"]}, ACTIONS[6]]
    assert serious_violations(page, "#macro-form") == []
    assert page.errors == []
