"""The routing admin page in a real browser with the real worker: rules edited as forms with a what-if replay of
last week's traffic before saving, reordered by drag and by keyboard; priority weights with their preview; the
model's versions promoted and rolled back. Each section is axe-clean and fits a 390 px phone."""

import time

import pytest
import sqlalchemy as sa

from tests.console.factories import serious_violations
from tests.console.test_console import post_webhook
from tests.factories import make_post
from tests.services.triage.test_classifier_service import labelled_rows
from workspace.extensions import db
from workspace.models import Conversation, PriorityWeightSetting, Rule

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def traffic(app, live_server):
    """Three refund posts and one crash report, routed by the worker (no rules: all to triage); their ids."""
    ids = [post_webhook(live_server, make_post(text=text, author={"id": f"a{n}", "handle": f"h{n}"}))
           for n, text in enumerate(["refund my order", "where is my refund", "app crashes", "refund please"])]
    for _ in range(120):
        with app.app_context():
            if not db.session.scalar(sa.select(sa.func.count()).select_from(Conversation)
                                     .where(Conversation.status == "new")):
                return ids
        time.sleep(0.25)
    raise AssertionError("the worker did not route the posts")


@pytest.fixture
def routing_page(root, open_console, live_server):
    """Root on the routing page, opened from the admin page's navigation, once its three sections have loaded."""
    page = open_console(root)
    page.click("text=Admin")
    page.click("nav >> text=Routing")
    page.wait_for_selector("#weights-fields input")
    page.wait_for_selector("#rule-conditions li")
    page.wait_for_selector("#model-table tbody tr")
    return page


def rule_names(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Rule.name).order_by(Rule.position)))


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_an_admin_builds_a_rule_sees_its_replay_then_saves_it_and_reorders(app, traffic, routing_page):
    """No JSON: a keyword condition and a queue action become the rule; the first Save replays last week (three
    refund posts would move to billing), the second saves; the API's refusal of a bad pattern shows beside the
    conditions; the Move buttons (by keyboard) and a drag change the order, saved in one request."""
    page = routing_page
    page.get_by_label("Condition 1 value").fill("refund")
    page.click("#rule-save")  # no name yet: the API's word on it shows beside the name
    page.wait_for_selector("#rule-name-error:not(:empty)")
    assert page.inner_text("#rule-name-error") == "name: at least 1 characters"
    assert page.get_attribute("#rule-form input[name=name]", "aria-invalid") == "true"
    page.fill("#rule-form input[name=name]", "Refunds to billing")
    page.select_option("#rule-form select[name=queue]", "billing")
    page.click("#rule-save")
    page.wait_for_selector("#rule-save:text-is('Confirm: save rule')")  # the draft as it is now was replayed
    summary = page.inner_text("#rule-replay .summary")
    assert "4 conversations replayed" in summary and "3 would change queue" in summary
    assert "triage → billing: 3" in page.inner_text("#rule-replay")
    assert rule_names(app) == []  # nothing saved by the preview
    page.click("#rule-save")
    page.wait_for_selector("#rules-list li:has-text('Refunds to billing')")
    with app.app_context():
        rule = db.session.scalar(sa.select(Rule))
        assert rule.conditions == {"all": [{"keywords": ["refund"], "match": "any"}]}
        assert rule.actions == {"queue": "billing"}

    # A second rule, urgent crashes; a pattern RE2 refuses is shown next to the conditions, from the API.
    page.click("#rule-new")
    page.fill("#rule-form input[name=name]", "Crashes are urgent")
    page.get_by_label("Condition 1", exact=True).select_option("regex")
    page.get_by_label("Condition 1 value").fill("(crash)\\1")
    page.select_option("#rule-form select[name=priority]", "urgent")
    page.click("#rule-save")
    page.wait_for_selector("#rule-conditions-error:not(:empty)")
    assert "regex" in page.inner_text("#rule-conditions-error")
    assert page.get_attribute("#rule-conditions-box", "aria-invalid") == "true"
    page.get_by_label("Condition 1 value").fill("crash(es)?")
    page.click("#rule-save")
    page.wait_for_selector("#rule-replay .summary:has-text('1 would change priority')")
    page.click("#rule-save")
    page.wait_for_selector("#rules-list li:has-text('Crashes are urgent')")
    assert rule_names(app) == ["Refunds to billing", "Crashes are urgent"]

    # By keyboard: focus the second rule's Move up and press Enter; the focus stays with the moved rule (on Move
    # down, now that it is first).
    page.get_by_label("Move Crashes are urgent up").focus()
    page.keyboard.press("Enter")
    assert page.inner_text("#rules-list li:first-child strong") == "1. Crashes are urgent"
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Move Crashes are urgent down"
    assert "Moved Crashes are urgent to position 1 of 2" in page.inner_text("#rules-order-status")
    page.click("#rules-save-order")
    page.wait_for_selector("#rules-order-status:has-text('Order saved')")
    assert rule_names(app) == ["Crashes are urgent", "Refunds to billing"]
    # By drag: the second rule dropped on the first.
    page.drag_and_drop("#rules-list li:nth-child(2)", "#rules-list li:nth-child(1)")
    assert page.inner_text("#rules-list li:first-child strong") == "1. Refunds to billing"
    page.click("#rules-save-order")
    page.wait_for_selector("#rules-order-status:has-text('Order saved')")
    assert rule_names(app) == ["Refunds to billing", "Crashes are urgent"]

    assert serious_violations(page, "#rules-admin") == []
    page.set_viewport_size(PHONE)
    assert fits(page)
    assert page.errors == []


def test_an_admin_previews_and_saves_priority_weights(app, traffic, routing_page):
    """Thresholds raised past every score: the first Save shows the four open conversations going low, the second
    stores the change; a weight out of its range is refused beside its field."""
    page = routing_page
    page.fill("#weights-form input[name=vip_points]", "5000")
    page.click("#weights-save")
    page.wait_for_selector("#weight-vip_points-error:not(:empty)")
    assert page.get_attribute("#weights-form input[name=vip_points]", "aria-invalid") == "true"
    page.click("#weights-defaults")
    for name in ("urgent_at", "high_at", "normal_at"):
        page.fill(f"#weights-form input[name={name}]", "1000")
    page.click("#weights-save")
    page.wait_for_selector("#weights-save:text-is('Confirm: save weights')")
    assert "Of 4 unresolved conversations, 4 would change priority level (0 raised, 4 lowered)" in \
        page.inner_text("#weights-preview .summary")
    assert "→ low" in page.inner_text("#weights-preview")
    with app.app_context():
        assert db.session.scalar(sa.select(PriorityWeightSetting)) is None
    page.click("#weights-save")
    page.wait_for_function("() => document.querySelector('#toast').textContent === 'Priority weights saved'")
    with app.app_context():
        assert db.session.scalar(sa.select(PriorityWeightSetting.values)) == {
            "urgent_at": 1000.0, "high_at": 1000.0, "normal_at": 1000.0}
    assert serious_violations(page, "#weights-admin") == []
    page.set_viewport_size(PHONE)
    assert fits(page)
    assert page.errors == []


def train(page, seed: int) -> None:
    """Upload a generated history through the API from the page (the worker trains it, forced active)."""
    content = "text,label\n" + "".join(f"{text},{label}\n" for text, label in labelled_rows(120, seed))
    status = page.evaluate("""async (content) => (await fetch('/api/v1/routing/train', {method: 'POST',
        headers: {'Content-Type': 'application/json',
                  'X-CSRFToken': document.querySelector('meta[name=csrf-token]').content},
        body: JSON.stringify({file_name: 'history.csv', content, force: true})})).status""", content)
    assert status == 202


def test_the_model_page_shows_versions_and_promotes_and_rolls_back(live_server, routing_page):
    """Two trained versions with accuracy, macro-F1 and calibration; the newer is active; Roll back makes the
    older active, Promote the newer again; coverage by threshold and accuracy over time are shown."""
    page = routing_page
    assert "No version is active" in page.inner_text("#model-active")
    for seed in (1, 2):
        train(page, seed)
        for _ in range(120):  # the worker trains it: open the page again until it is listed
            page.reload()
            page.wait_for_selector("#model-table tbody tr")
            if page.locator("#model-table tbody tr[data-version]").count() == seed:
                break
            page.wait_for_timeout(500)
    rows = page.locator("#model-table tbody tr[data-version]")
    assert rows.count() == 2
    newer, older = (rows.nth(i).get_attribute("data-version") for i in range(2))
    cells = rows.nth(0).locator("td").all_inner_texts()
    # after the version: trained, source, rows, features, accuracy, macro-F1, calibration error, never predicted, status
    assert cells[8] == "active" and cells[4].endswith("%") and 0 <= float(cells[5]) <= 1 and 0 <= float(cells[6]) <= 1
    assert page.locator("#model-coverage tbody tr").count() >= 2
    assert page.locator("#model-chart svg[role=img]").count() == 1
    assert page.locator("#model-accuracy tbody tr").count() == 4

    page.click("#model-rollback")
    page.wait_for_selector(f"#model-status:has-text('Rolled back: {older} is active again')")
    assert f"Active: {older}" in page.inner_text("#model-active")
    page.on("dialog", lambda dialog: dialog.accept())  # should the gate refuse, the admin overrules it
    page.get_by_label(f"Promote {newer}").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#model-status:has-text('{newer} is now active')")
    assert f"Active: {newer}" in page.inner_text("#model-active")

    assert serious_violations(page, "#model-admin") == []
    page.set_viewport_size(PHONE)
    assert fits(page)
    assert page.errors == []
