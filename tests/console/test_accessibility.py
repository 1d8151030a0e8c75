"""Every page in a real browser, as the role that uses it: axe-core finds no serious or critical violation
(WCAG 2.1 AA), and on a phone or tablet no page is wider than the screen and its key controls are reachable."""

from urllib.parse import urlsplit

import pyotp
import pytest
from werkzeug.security import generate_password_hash

from tests.console.factories import PASSWORD, serious_violations, submit
from tests.console.test_admin_automations_page import build_automation
from tests.console.test_console import post_webhook
from tests.factories import make_post
from workspace.extensions import db
from workspace.models import Agent, utcnow

# (page, who signs in, path, what shows once it has loaded); {id} is the conversation the fixture opens.
SCREENS = [
    ("console", "ana@example.com", "/conversations/{id}", "#cust-name:not(:empty)"),
    ("tokens", "ana@example.com", "/tokens", "#new-token"),
    ("account security", "ana@example.com", "/account/security", "#two-factor-state"),
    ("notification settings", "ana@example.com", "/account/notifications", "#push-settings"),
    ("my reviews", "ana@example.com", "/reviews", "main"),
    ("dashboard", "sam@example.com", "/dashboard", "#incident-table tbody tr"),
    ("quality review", "sam@example.com", "/qa", "#samples .sample form"),
    ("weekly report", "sam@example.com", "/reports/weekly", "#report-volume"),
    ("admin", "root@example.com", "/admin", ("#macros-admin tbody tr", "#automations-admin tbody tr")),
    ("admin routing", "root@example.com", "/admin/routing", ("#weights-fields input", "#model-table tbody tr",
                                                             "#rule-conditions li")),
]
PHONES_AND_TABLETS = (360, 390, 768)


@pytest.fixture
def replied(app, root, open_console, live_server):
    """A billing conversation Ana has replied to (so quality review has a sample), Tia, who signs in with a second
    factor, every admin section with rows and an open incident on the dashboard; returns the conversation's id."""
    with app.app_context():
        db.session.add(Agent(email="tia@example.com", name="Tia", role="agent", totp_secret=pyotp.random_base32(),
                             totp_enabled_at=utcnow(), password_hash=generate_password_hash(PASSWORD)))
        db.session.commit()
    conversation_id = post_webhook(live_server, make_post(text="@billing where is my refund?", subject="Refund"))
    page = open_console("ana@example.com")
    page.goto(f"{live_server}/conversations/{conversation_id}")
    page.wait_for_selector("#thread .message.inbound")
    page.fill("#reply-text", "Your refund left today.")
    page.click("#send-reply")
    page.wait_for_selector("#thread .message.outbound")
    page.context.close()
    fill_every_admin_section(open_console(root))
    page = open_console("sam@example.com")
    page.goto(f"{live_server}/dashboard")
    submit(page, "#new-incident", {"title": "Cards charged twice", "kind": "phrase", "value": "charged twice"},
           '#incident-table tr:has-text("Cards charged twice")')
    page.context.close()
    return conversation_id


def fill_every_admin_section(page) -> None:
    """From the admin page, add a calendar, an SLA policy on business hours, a macro, an automation and an event
    subscription, so every section has rows to check."""
    page.click("text=Admin")
    # The forms' handlers come with the page's module scripts: a submit before they ran would post natively.
    page.wait_for_load_state("load")
    # The page's last script has run (so every form's handler is attached) once the automation editor has a row.
    page.wait_for_selector("#automation-conditions li")
    submit(page, "#new-calendar", {"name": "Paris office", "time_zone": "Europe/Paris"}, "#calendars tbody tr")
    page.wait_for_selector("#new-policy select[name=calendar] option:has-text('Paris office')", state="attached")
    submit(page, "#new-policy", {"first_reply_minutes": "30", "calendar": "Paris office"}, "#policies tbody tr")
    submit(page, "#macro-form", {"name": "Refund sent", "template": "Your refund is on its way."},
           "#macros-admin tbody tr")
    build_automation(page)
    page.click("#automation-form button[type=submit]")
    page.wait_for_selector("#automations-admin tbody tr")
    page.fill("#new-subscription input[name=url]", "http://127.0.0.1:9/hooks")
    page.check("#new-subscription input[value=ping]")
    page.click("#new-subscription button[type=submit]")
    page.wait_for_selector("#subscriptions-admin tbody tr")
    page.context.close()


def screens(open_console, browser, live_server, conversation_id, viewport):
    """Each page as it is once loaded: yields (name, page), signed in as the role that uses it, then the sign-in
    page, the two-factor code step and the customer's satisfaction survey signed out."""
    signed_in = {}
    for name, email, path, ready in SCREENS:
        if email not in signed_in:
            signed_in[email] = open_console(email, viewport)
        page = signed_in[email]
        if name == "quality review":
            page.goto(f"{live_server}{path}")
            page.click("text=Draw a sample")
        else:
            page.goto(f"{live_server}{path.format(id=conversation_id)}")
        for selector in (ready,) if isinstance(ready, str) else ready:
            page.wait_for_selector(selector, state="attached")
        yield name, page
    context = browser.new_context(viewport=viewport)
    try:
        page = context.new_page()
        page.goto(f"{live_server}/login")
        yield "sign-in", page
        page.fill("input[name=email]", "tia@example.com")
        page.fill("input[name=password]", PASSWORD)
        page.press("input[name=password]", "Enter")
        page.wait_for_url(f"{live_server}/login/code")
        yield "two-factor code", page
        # The survey link as the console's API gives it (the server signs it with its own key).
        link = signed_in["ana@example.com"].evaluate(
            f"fetch('/api/v1/conversations/{conversation_id}/satisfaction').then((r) => r.json())")["survey_url"]
        page = context.new_page()
        page.goto(f"{live_server}{urlsplit(link).path}")
        page.wait_for_selector("input[name=score]")
        yield "satisfaction survey", page
    finally:
        context.close()


def test_no_page_has_a_serious_or_critical_axe_violation(open_console, browser, live_server, replied):
    """Console (a conversation and its customer open), dashboard, admin (every section filled), quality review
    (a sample drawn), my reviews, weekly report, tokens, security, sign-in and the code step: axe finds nothing
    serious or critical on any of them."""
    found = {name: serious_violations(page)
             for name, page in screens(open_console, browser, live_server, replied, {"width": 1400, "height": 900})}
    assert set(found) == {name for name, *_ in SCREENS} | {"sign-in", "two-factor code", "satisfaction survey"}
    assert {name: problems for name, problems in found.items() if problems} == {}


def reachable(page, selector: str) -> bool:
    """The control is shown, inside the screen's width, and big enough to read."""
    box = page.locator(selector).first.bounding_box()
    width = page.viewport_size["width"]
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width and box["width"] >= 16


@pytest.mark.parametrize("width", PHONES_AND_TABLETS)
def test_no_page_is_wider_than_a_phone_or_tablet_and_the_key_controls_are_reachable(
        open_console, browser, live_server, replied, width):
    """At 360, 390 and 768 px: no page scrolls sideways; in the console Sign out, the status switch, the help
    `?` and the Send button with its whole label are on screen, and the customer panel opens from the
    conversation and leads back to it."""
    viewport = {"width": width, "height": 844}
    wider, unreachable = {}, []
    for name, page in screens(open_console, browser, live_server, replied, viewport):
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            wider[name] = scroll_width
        if name == "console":
            unreachable = [control for control in ("text=Sign out", "#my-status", "#show-help", "#send-reply")
                           if not reachable(page, control)]
            send = page.locator("#send-reply")
            assert send.inner_text() == "Send" and send.evaluate("button => button.scrollWidth <= button.clientWidth")
            # By keyboard: the customer's panel opens in the conversation's place, with focus on the way back.
            page.get_by_role("button", name="Customer details").focus()
            page.keyboard.press("Enter")
            assert reachable(page, "#cust-name") and reachable(page, "#cust-tags")
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            assert page.evaluate("document.activeElement.textContent") == "Back to the conversation"
            page.keyboard.press("Enter")
            assert page.locator("#reply-text").is_visible() and not page.locator("#cust-name").is_visible()
    assert wider == {}
    assert unreachable == []
