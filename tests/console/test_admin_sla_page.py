"""The admin page's SLA part in a real browser: a calendar with imported holidays, a policy, a strategy, a capacity."""

import sqlalchemy as sa

from tests.sla.test_ical import FEED
from workspace.extensions import db
from workspace.models import Agent, BusinessCalendar, Queue, SlaPolicy


def test_admin_sets_up_business_hours_sla_and_assignment(app, admin_page, tmp_path):
    """Calendar, .ics import, a business-hours policy, round robin and Ana's capacity, all through the page."""
    page = admin_page
    page.wait_for_selector("#assignment tbody tr")
    page.fill("#new-calendar input[name=name]", "Paris office")
    page.select_option("#new-calendar select[name=time_zone]", "Europe/Paris")
    page.click("#calendar-save")
    calendar_row = page.wait_for_selector('#calendars tr:has-text("Paris office")')
    assert "mon 09:00-17:00" in calendar_row.inner_text()
    feed = tmp_path / "holidays.ics"
    feed.write_text(FEED)
    calendar_row.query_selector("input[type=file]").set_input_files(str(feed))
    page.wait_for_selector('#calendars tr:has-text("Paris office") td:nth-child(4):text-is("5")')
    form = page.locator("#new-policy")
    form.locator("select[name=queue]").select_option("billing")
    form.locator("select[name=level]").select_option("urgent")
    form.locator("input[name=first_reply_minutes]").fill("30")
    form.locator("input[name=resolution_minutes]").fill("480")
    form.locator("select[name=calendar]").select_option("Paris office")
    form.locator("button").click()
    page.wait_for_selector('#policies tr[data-queue="billing"][data-level="urgent"]:has-text("business hours")')
    page.select_option('#assignment tr[data-slug="billing"] select', "least_loaded")
    page.wait_for_function("() => document.querySelector('#toast').textContent === 'Assignment saved'")
    page.fill('#agents tr:has-text("ana@example.com") input.capacity', "3")
    page.press('#agents tr:has-text("ana@example.com") input.capacity', "Enter")
    page.wait_for_function("() => document.querySelector('#toast').textContent === 'Capacity saved'")
    with app.app_context():
        policy = db.session.scalar(sa.select(SlaPolicy))
        assert (policy.first_reply_minutes, policy.resolution_minutes, policy.business_hours) == (30, 480, True)
        assert len(db.session.scalar(sa.select(BusinessCalendar)).holidays) == 5
        assert db.session.scalar(sa.select(Queue.assignment).where(Queue.slug == "billing")) == "least_loaded"
        assert db.session.scalar(sa.select(Agent.capacity).where(Agent.email == "ana@example.com")) == 3
    assert page.errors == []
