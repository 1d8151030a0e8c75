"""The customer panel shows the person: their other channels, a proposed link to confirm and undo, custom fields."""

import json
from pathlib import Path

import requests
import sqlalchemy as sa

from tests.console.factories import serious_violations
from tests.console.test_console import row
from tests.factories import SECRET, make_post
from workspace.channels.signature import sign
from workspace.extensions import db
from workspace.jobs.tasks import periodic
from workspace.models import Author, Channel


def post_to(base: str, slug: str, payload: dict) -> int:
    body = json.dumps(payload).encode()
    response = requests.post(f"{base}/webhooks/{slug}", data=body, timeout=10, headers={
        "Content-Type": "application/json", "X-Switchboard-Signature": sign(SECRET, body)})
    assert response.status_code == 202, response.text
    return response.json()["conversation_id"]


def test_an_agent_confirms_a_proposed_person_sets_a_field_and_undoes_the_link(app, redis, open_console,
                                                                              live_server):
    """Two channels, one email: the panel proposes the other profile with its evidence; confirming shows both
    channels' history and the list shows the forum post VIP (VIP on social); a field is set and removed; undo takes
    the link back. The panel stays axe-clean."""
    with app.app_context():
        db.session.add(Channel(slug="social", name="Social", kind="native", secret=SECRET))
        db.session.commit()
    forum = post_to(live_server, "forum", make_post(text="@billing invoice wrong", author={
        "id": "f1", "handle": "maya", "name": "Maya", "email": "maya@example.com"}))
    post_to(live_server, "social", make_post(text="@billing still waiting", author={
        "id": "s1", "handle": "maya_x", "email": "maya@example.com"}))
    redis.delete(periodic.PEOPLE_SCANNED_KEY)
    with app.app_context():
        assert periodic.propose_person_links()["proposed"] == 1
        db.session.scalar(sa.select(Author).where(Author.handle == "maya_x")).tags = ["vip"]  # VIP on social only
        db.session.commit()
        db.session.remove()
    page = open_console("ana@example.com")
    page.goto(f"{live_server}/conversations/{forum}")
    page.wait_for_selector("#cust-links li .link-same")
    assert "maya@example.com" in page.inner_text("#cust-links")
    page.click("#cust-links .link-same")
    page.wait_for_selector("#cust-links li .link-undo")
    page.wait_for_selector("#cust-history li >> nth=1")
    assert "@maya_x on social" in page.inner_text("#cust-person")
    page.click('#queues li[data-queue="billing"]')
    row(page, forum).locator(".chip.vip").wait_for()  # VIP anywhere is VIP in the list too
    page.fill("#cust-field-name", "plan")
    page.fill("#cust-field-value", "enterprise")
    page.click("#cust-field-form button")
    page.wait_for_selector("#cust-fields li")
    assert page.inner_text("#cust-fields").startswith("plan: enterprise")
    assert serious_violations(page, "#customer") == []
    page.click("#cust-fields .remove-field")
    page.wait_for_selector("#cust-fields li", state="detached")
    page.click("#cust-links .link-undo")
    page.wait_for_selector("#cust-links li", state="detached")
    page.wait_for_selector("#cust-history li >> nth=1", state="detached")
    assert page.errors == []


def test_an_admin_exports_and_erases_a_customer_and_runs_retention(root, open_console, live_server):
    """The panel's Export data saves the JSON; Erase… blanks the customer; the admin page's retention form
    starts the job and shows it finish."""
    conversation_id = post_to(live_server, "forum", make_post(text="@billing my yakboot order", author={
        "id": "f9", "handle": "yakfan", "name": "Yak Fan"}))
    page = open_console(root)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{live_server}/conversations/{conversation_id}")
    page.wait_for_selector("#cust-export")
    with page.expect_download() as download:
        page.click("#cust-export")
    assert json.loads(Path(download.value.path()).read_text())["authors"][0]["handle"] == "yakfan"
    page.click("#cust-erase")
    page.wait_for_selector("#cust-name:text-matches('erased-')")
    page.goto(f"{live_server}/admin")
    page.wait_for_selector("#retention")
    assert serious_violations(page, "#retention") == []
    page.fill("#retention-days", "1")
    page.click("#retention button[type=submit]")
    page.wait_for_selector("#retention-status:text-matches('^finished')")
    assert page.errors == []
