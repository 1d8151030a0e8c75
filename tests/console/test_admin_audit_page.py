"""The admin page's audit log in a real browser: filter by keyboard, read older pages, export what is shown."""

from datetime import UTC, datetime, timedelta

from tests.console.factories import serious_violations
from workspace.extensions import db
from workspace.models import AuditEntry


def test_admin_filters_the_audit_log_by_keyboard_and_exports_it(app, admin_page):
    """Typing an action and pressing Enter shows only those entries; "Show older" brings the next page; the
    Export CSV link carries the same filters; the section has no serious accessibility problem."""
    with app.app_context():
        start = datetime(2026, 11, 2, 9, tzinfo=UTC)
        db.session.add_all([AuditEntry(agent_id=None, action="rule.update", target_type="rule", target_id=n,
                                       after={"n": n}, created_at=start + timedelta(minutes=n)) for n in range(60)])
        db.session.add(AuditEntry(agent_id=None, action="macro.create", target_type="macro", target_id=1,
                                  created_at=start))
        db.session.commit()
    page = admin_page
    page.wait_for_selector("#audit-entries tbody tr")
    page.locator("#audit-filter input[name=action]").focus()
    page.keyboard.type("rule.")
    page.keyboard.press("Enter")
    page.wait_for_selector("#audit-entries tbody tr:has-text('rule #59')")
    shown = page.locator("#audit-entries tbody tr").count()
    assert 0 < shown < 60
    assert page.locator("#audit-entries tbody tr:has-text('macro.create')").count() == 0
    page.locator("#audit-more").focus()
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => document.querySelectorAll('#audit-entries tbody tr').length > {shown}")
    href = page.get_attribute("#audit-export", "href")
    assert "format=csv" in href and "action=rule." in href
    exported = page.request.get(page.url.split("/admin")[0] + href)
    assert exported.status == 200 and exported.text().count("rule.update") == 60
    assert "macro.create" not in exported.text()
    assert serious_violations(page, "#audit-log") == []
    assert page.errors == []
