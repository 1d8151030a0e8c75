"""The admin page's automations and outbound events in a real browser: forms, dry run, enable, test event, log."""

import sqlalchemy as sa

from workspace.extensions import db
from workspace.models import Automation, Queue, Subscription


def build_automation(page) -> None:
    """Fill the editor: pending for 3 days since an agent's reply, then tag and notify the queue."""
    form = page.locator("#automation-form")
    form.locator("input[name=name]").fill("Nudge waiting customers")
    page.get_by_label("Condition 1 value").select_option(["pending"])
    page.click("#automation-add-condition")
    page.get_by_label("Condition 2 field").select_option("hours_since_agent")
    page.get_by_label("Condition 2 value").fill("72")
    page.get_by_label("Action 1 tags").fill("reminded, waiting")
    page.click("#automation-add-action")
    page.get_by_label("Action 2", exact=True).select_option("notify")
    page.get_by_label("Action 2 target").select_option("queue")


def test_admin_builds_dry_runs_saves_and_enables_an_automation(app, admin_page):
    """No JSON to write: the rows become the automation's conditions and actions; the dry run reports what
    would fire; saved, it lists disabled until its switch turns it on; the billing queue gets a lead to hand work to."""
    page = admin_page
    page.wait_for_selector("#automation-conditions li")
    build_automation(page)
    page.click("#automation-dry-run")
    page.wait_for_selector("#automation-result:has-text('0 conversations match')")
    page.click("#automation-form button[type=submit]")
    row = page.wait_for_selector('#automations-admin tr:has-text("Nudge waiting customers")')
    assert "Hours since an agent's last reply at least 72" in row.inner_text()
    page.get_by_label("Enable Nudge waiting customers").check()
    page.wait_for_function("() => document.querySelector('#toast').textContent === 'Automation enabled'")
    page.locator('#queues-admin tr[data-slug="billing"] select').select_option(index=1)
    page.wait_for_function("() => document.querySelector('#toast').textContent === 'Lead saved'")
    with app.app_context():
        automation = db.session.scalar(sa.select(Automation).where(Automation.name == "Nudge waiting customers"))
        assert automation.enabled
        assert automation.conditions == [{"field": "status", "op": "in", "value": ["pending"]},
                                         {"field": "hours_since_agent", "op": "gte", "value": 72}]
        assert db.session.scalar(sa.select(Queue).where(Queue.slug == "billing")).lead.role != "agent"
        assert automation.actions == [{"type": "add_tags", "tags": ["reminded", "waiting"]},
                                      {"type": "notify", "target": "queue"}]
    assert page.errors == []


def test_admin_subscribes_a_url_sends_a_test_and_reads_the_log(app, admin_page):
    """Subscribe a URL to two events, send a test event, and read it in the delivery log."""
    page = admin_page
    page.fill("#new-subscription input[name=url]", "http://127.0.0.1:9/hooks")
    page.check("#new-subscription input[value='conversation.resolved']")
    page.check("#new-subscription input[value='automation.fired']")
    page.click("#new-subscription button[type=submit]")
    row = page.wait_for_selector('#subscriptions-admin tr:has-text("127.0.0.1:9")')
    assert "automation.fired, conversation.resolved" in row.inner_text()
    page.get_by_label("Send a test event to http://127.0.0.1:9/hooks").click()
    page.wait_for_function("() => document.querySelector('#toast').textContent === 'Test event queued'")
    page.get_by_label("Delivery log of http://127.0.0.1:9/hooks").click()
    page.wait_for_selector("#subscription-log td:text-is('ping')")
    with app.app_context():
        assert db.session.scalar(sa.select(Subscription.events)) == ["automation.fired", "conversation.resolved"]
    assert page.errors == []
