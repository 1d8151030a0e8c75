"""The admin page in a real browser: add a queue and an agent, who then sees it in the console."""

from tests.console.factories import PASSWORD


def test_admin_adds_a_queue_and_an_agent_who_works_it(admin_page, open_console):
    """Everything through the page: the new agent signs in and finds the new queue in the sidebar."""
    page = admin_page
    page.fill("#new-queue input[name=slug]", "refunds")
    page.fill("#new-queue input[name=name]", "Refunds")
    page.click("#new-queue button")
    page.wait_for_selector('#queues-admin tr[data-slug="refunds"]')
    page.fill("#new-agent input[name=name]", "Newbie")
    page.fill("#new-agent input[name=email]", "newbie@example.com")
    page.fill("#new-agent input[name=password]", PASSWORD)
    page.click("#new-agent button")
    page.wait_for_selector('#agents tr:has-text("newbie@example.com")')
    # Membership is one box per queue: ticking a second keeps the first.
    for slug, name in (("refunds", "Refunds"), ("triage", "Triage")):
        page.locator(f'#agents tr:has-text("newbie@example.com") fieldset.queues input[value="{slug}"]').check()
        page.wait_for_function(f"() => document.querySelector('#toast').textContent === 'Newbie joined {name}'")
    newbie = open_console("newbie@example.com")
    assert sorted(newbie.eval_on_selector_all("#queues li", "items => items.map(i => i.dataset.queue)")) == [
        "refunds", "triage"]


def test_the_admin_page_is_for_admins_only(open_console, live_server):
    """An agent opening /admin gets a 403."""
    page = open_console("ana@example.com")
    response = page.goto(f"{live_server}/admin")
    assert response.status == 403


def test_admin_sets_a_queue_email_signature(app, admin_page):
    """The signature typed in the queue's row is saved on the queue (and shown again after a reload)."""
    page = admin_page
    box = page.locator('#queues-admin tr[data-slug="billing"] textarea.signature')
    box.fill("Billing team\nexample.com/help")
    box.dispatch_event("change")
    page.wait_for_function("() => document.querySelector('#toast').textContent === 'Signature saved'")
    page.reload()
    page.wait_for_selector('#queues-admin tr[data-slug="billing"]')
    assert page.input_value('#queues-admin tr[data-slug="billing"] textarea.signature') == \
        "Billing team\nexample.com/help"
