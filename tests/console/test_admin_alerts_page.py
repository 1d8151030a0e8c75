"""The admin page's "Telling engineering" in a real browser: the incident webhook, tickets, and the weekly
report's recipients and schedule, set by keyboard."""

from tests.console.factories import serious_violations
from workspace.extensions import db
from workspace.models import AlertSettings


def test_admin_sets_the_webhook_tickets_and_the_weekly_report_by_keyboard(app, admin_page):
    """The form saves the webhook (shown afterwards by its host only), tickets on, the report on for two
    addresses on Friday at 16:00; removing the webhook stops the posts; no serious accessibility problem."""
    page = admin_page
    page.wait_for_selector("#alerts-webhook-now:has-text('No webhook')")
    form = page.locator("#alerts-form")
    form.locator("input[name=slack_webhook_url]").fill("http://127.0.0.1:9/services/T1/B2/secret")
    form.locator("input[name=incident_tickets]").check()
    form.locator("input[name=report_enabled]").check()
    form.locator("textarea[name=report_recipients]").fill("eng@example.com\nproduct@example.com")
    form.locator("select[name=report_weekday]").select_option(label="Friday")
    form.locator("select[name=report_hour]").select_option(label="16:00")
    form.locator("select[name=report_hour]").focus()
    page.keyboard.press("Tab")  # to Save
    page.keyboard.press("Enter")
    page.wait_for_selector("#alerts-webhook-now:has-text('on 127.0.0.1')")
    assert "secret" not in page.inner_text("#engineering-alerts")
    with app.app_context():
        row = db.session.get(AlertSettings, 1)
        assert row.slack_webhook_url == "http://127.0.0.1:9/services/T1/B2/secret" and row.incident_tickets
        assert (row.report_enabled, row.report_recipients, row.report_weekday, row.report_hour) == (
            True, ["eng@example.com", "product@example.com"], 4, 16)
    assert serious_violations(page, "#engineering-alerts") == []
    form.locator("input[name=remove_webhook]").check()
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#alerts-webhook-now:has-text('No webhook')")
    with app.app_context():
        assert db.session.get(AlertSettings, 1).slack_webhook_url is None
    assert page.errors == []
