"""Single sign-on in a real browser: the button, the real provider's page, and the console as the right agent."""

import pytest

from devstack.localredis import free_port
from tests.console.factories import serious_violations
from tests.factories import running
from tests.oidc_provider import NAME, add_person, running_provider, sso_env


@pytest.fixture
def provider(tmp_path):
    """The OpenID Connect provider's own process."""
    with running_provider(tmp_path, free_port()) as issuer:
        yield issuer


@pytest.fixture
def sso_server(app, people, redis_url, tmp_path, provider):
    """Web and worker processes configured for single sign-on at the provider; yields the base URL."""
    with running(app, redis_url, tmp_path, SWITCHBOARD_DISPATCH_POLL_SECONDS="0.5", **sso_env(provider)) as base:
        yield base


@pytest.fixture
def page(browser):
    """A fresh browser page that records what the Content-Security-Policy refused."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda message: "Content Security Policy" in message.text
            and page.csp_violations.append(message.text))
    yield page
    context.close()



def test_sign_in_with_the_provider_lands_in_the_console_as_that_agent(page, sso_server, provider):
    """Ana presses "Sign in with Acme ID" by keyboard, signs in at the provider and works in her console."""
    add_person(provider, "ana-at-acme", email="ana@example.com", email_verified=True, name="Ana A.")
    page.goto(f"{sso_server}/login")
    assert serious_violations(page) == []
    button = page.get_by_role("link", name=f"Sign in with {NAME}")
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{provider}/oauth2/authorize*")
    page.fill("input[name=sub]", "ana-at-acme")
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_selector("#queues li", state="attached")
    assert page.url == f"{sso_server}/"
    assert page.locator(".topbar .me").inner_text() == "Ana"
    assert page.locator("#queues li").count() == 2  # triage and billing, her queues
    assert page.csp_violations == []


def test_a_refused_sign_in_comes_back_to_a_clear_accessible_page(page, sso_server, provider):
    """Someone with no account is told so on the sign-in page, which still offers both ways in."""
    add_person(provider, "stranger", email="stranger@example.com", email_verified=True)
    page.goto(f"{sso_server}/login")
    page.get_by_role("link", name=f"Sign in with {NAME}").click()
    page.fill("input[name=sub]", "stranger")
    page.get_by_role("button", name="Authorize").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "no Switchboard account uses stranger@example.com" in alert.inner_text()
    assert page.get_by_role("link", name=f"Sign in with {NAME}").is_visible()
    assert page.locator("input[name=password]").is_visible()
    assert serious_violations(page) == []
    assert page.csp_violations == []
