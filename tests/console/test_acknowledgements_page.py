"""Acknowledgements in a real browser: an admin turns one on, and the customer's new post gets it in the thread."""

import sqlalchemy as sa

from tests.console.factories import serious_violations
from tests.console.test_console import post_webhook, row
from tests.factories import make_post
from workspace.extensions import db
from workspace.models import Channel


def test_admin_turns_on_an_acknowledgement_and_the_thread_shows_it(app, admin_page, live_server):
    """The form saves the channel's texts; the next new conversation shows the automatic reply, named as one."""
    page = admin_page
    form = page.locator("#acknowledgement-form")
    form.get_by_label("Send an acknowledgement").check()
    form.get_by_label("In business hours").fill("Thanks, we got your message.")
    form.locator("button[type=submit]").click()
    page.wait_for_function("() => document.querySelector('#toast').textContent === 'Acknowledgement saved'")
    with app.app_context():
        assert db.session.scalar(sa.select(Channel.acknowledgement).where(Channel.slug == "forum")) == {
            "enabled": True, "in_hours": "Thanks, we got your message.", "out_of_hours": ""}
    assert serious_violations(page, "#acknowledgements") == []
    conversation_id = post_webhook(live_server, make_post(text="@billing my invoice is wrong"))
    page.goto(f"{live_server}/")
    page.click('#queues li[data-queue="billing"]')
    row(page, conversation_id).click()
    automatic = page.wait_for_selector("#thread .message.outbound.automatic", timeout=15000)
    assert "Switchboard (automatic reply)" in automatic.inner_text()
    assert "Thanks, we got your message." in automatic.inner_text()
    assert page.errors == []
