"""Real-browser fixtures: the app under gunicorn with a real worker, and Debian's Chromium via Playwright."""

import os

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from tests.console.factories import PASSWORD
from tests.factories import SECRET, running
from workspace.extensions import db
from workspace.models import Agent, Channel, Queue

CHROMIUM = os.environ.get("SWITCHBOARD_CHROMIUM", "/usr/bin/chromium")
# As root, in a sandbox with no network but the package registries (see .library env notes).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def database_url(tmp_path):
    """Browser tests run on SQLite only (the API tests cover PostgreSQL)."""
    return f"sqlite:///{tmp_path}/console.db"


@pytest.fixture
def people(app):
    """Ana and Bob work billing and triage; Sam supervises. All sign in with PASSWORD."""
    with app.app_context():
        db.session.add(Channel(slug="forum", name="Forum", kind="native", secret=SECRET))
        queues = [Queue(slug=slug, name=slug.title()) for slug in ("triage", "billing", "tech")]
        db.session.add_all(queues)
        for email, name, role in (("ana@example.com", "Ana", "agent"), ("bob@example.com", "Bob", "agent"),
                                  ("sam@example.com", "Sam", "supervisor")):
            db.session.add(Agent(email=email, name=name, role=role, queues=queues[:2],
                                 password_hash=generate_password_hash(PASSWORD)))
        db.session.commit()
        return {agent.name: agent.id for agent in db.session.scalars(sa.select(Agent))}


@pytest.fixture
def root(app, people):
    """Root, an admin who signs in with PASSWORD; returns the email."""
    with app.app_context():
        db.session.add(Agent(email="root@example.com", name="Root", role="admin",
                             password_hash=generate_password_hash(PASSWORD)))
        db.session.commit()
    return "root@example.com"


@pytest.fixture
def live_server(app, people, redis_url, tmp_path):
    """Web and worker processes as the Procfile runs them, on the test database; yields the base URL."""
    # Outbound events may go to receivers on this machine, as in the in-process tests.
    with running(app, redis_url, tmp_path, SWITCHBOARD_DISPATCH_POLL_SECONDS="0.5",
                 SWITCHBOARD_SUBSCRIPTION_ALLOW_PRIVATE="1") as base:
        yield base


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; skipped, saying why, where it cannot start."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not available: {CHROMIUM} is missing (bin/test installs it where it can)")
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Error as error:
            pytest.skip(f"Chromium not available: {error.message.splitlines()[0]}")
        yield browser
        browser.close()


@pytest.fixture
def open_console(browser, live_server, tmp_path, request):
    """Sign someone in on a fresh browser context: open_console("ana@example.com") -> page."""
    contexts = []

    def sign_in(email: str, viewport=None):
        context = browser.new_context(viewport=viewport or {"width": 1400, "height": 900})
        contexts.append(context)
        # Whatever the Content-Security-Policy refuses is logged; a page it breaks fails the test.
        context.csp_violations = []
        context.on("console", lambda message: "Content Security Policy" in message.text
                   and context.csp_violations.append(message.text))
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#queues li", state="attached")
        page.wait_for_selector("#connection.live", state="attached")
        return page

    yield sign_in
    report = getattr(request.node, "rep_call", None)
    refused = [text for context in contexts for text in context.csp_violations]
    for number, context in enumerate(contexts):
        if report is not None and report.failed:
            for index, page in enumerate(context.pages):
                path = tmp_path / f"failure-{number}-{index}.png"
                page.screenshot(path=str(path))
                print(f"screenshot of the failed test: {path}")
        context.close()
    if refused and not (report is not None and report.failed):
        pytest.fail(f"the Content-Security-Policy refused: {refused}")


@pytest.fixture
def admin_page(root, open_console):
    """Root, an admin, signed in and on the admin page once it has loaded."""
    page = open_console(root)
    page.click("text=Admin")
    page.wait_for_selector("#channels tbody tr")
    return page


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can tell a failed test."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
