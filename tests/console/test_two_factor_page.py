"""In a real browser: an agent turns on two-factor sign-in from their security page, then signs in with an
authenticator code and with a recovery code; the pages pass axe-core and the Content-Security-Policy."""

import time

import pyotp
import pytest
import sqlalchemy as sa

from tests.console.factories import PASSWORD, serious_violations
from workspace.extensions import db
from workspace.models import Agent, AuditEntry, utcnow


@pytest.fixture
def context(browser, live_server):
    """A fresh browser context that records what the Content-Security-Policy refuses."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.csp_violations = []
    context.on("console", lambda message: "Content Security Policy" in message.text
               and context.csp_violations.append(message.text))
    yield context
    context.close()
    assert context.csp_violations == []


def password_step(page, base: str) -> None:
    """Type Ana's email and password into the sign-in form and submit it with the keyboard."""
    page.goto(f"{base}/login")
    page.fill("input[name=email]", "ana@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")


def sign_out(page, base: str) -> None:
    page.goto(f"{base}/")
    page.click("text=Sign out")
    page.wait_for_url(f"{base}/login")


def test_enrol_then_sign_in_with_a_code_then_with_a_recovery_code(context, live_server):
    """Set up from the security page (QR and key shown), confirm a code, get recovery codes; sign in again
    with the app's code, then with a recovery code, which then never works again."""
    page = context.new_page()
    password_step(page, live_server)
    page.wait_for_selector("#queues li", state="attached")
    page.click("text=Security")
    page.wait_for_selector("#two-factor-state")
    assert serious_violations(page) == []

    page.click("text=Set up two-factor sign-in")
    assert page.locator("svg.qr").is_visible()
    secret = page.inner_text("#totp-secret")
    assert f"secret={secret}" in page.locator("#totp-uri").text_content()
    assert serious_violations(page) == []
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.click("text=Turn on two-factor sign-in")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    assert serious_violations(page) == []

    sign_out(page, live_server)
    password_step(page, live_server)
    page.wait_for_url(f"{live_server}/login/code")
    assert serious_violations(page) == []
    page.get_by_label("Code").fill(pyotp.TOTP(secret).at(time.time() + 30))  # the confirmation spent this step
    page.press("input[name=code]", "Enter")
    page.wait_for_selector("#queues li", state="attached")

    sign_out(page, live_server)
    password_step(page, live_server)
    page.get_by_label("Code").fill(codes[0])
    page.press("input[name=code]", "Enter")
    page.wait_for_selector("#queues li", state="attached")

    sign_out(page, live_server)
    password_step(page, live_server)
    page.get_by_label("Code").fill(codes[0])
    page.press("input[name=code]", "Enter")
    assert page.get_by_role("alert").inner_text() == "wrong or already used code"
    assert page.url == f"{live_server}/login/code"
    assert serious_violations(page) == []


def test_an_admin_resets_an_agents_second_factor_from_the_admin_page(app, people, admin_page):
    """Ana lost her phone: the admin page shows her second factor on; Reset (confirmed) turns it off, audited."""
    with app.app_context():
        ana = db.session.get(Agent, people["Ana"])
        ana.totp_secret, ana.totp_enabled_at = pyotp.random_base32(), utcnow()
        db.session.commit()
    admin_page.reload()
    button = admin_page.get_by_role("button", name="Reset two-factor sign-in of Ana")
    assert serious_violations(admin_page) == []
    admin_page.once("dialog", lambda dialog: dialog.accept())
    button.click()
    row = admin_page.locator(f"#agents tr[data-id='{people['Ana']}']")
    row.locator("text=off").wait_for()
    with app.app_context():
        assert db.session.get(Agent, people["Ana"]).totp_enabled_at is None
        assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "agent.two_factor_reset"))
