"""SLAs and assignment in a real browser: work assigned to the online agent with its why, and a live breach badge."""

from datetime import timedelta

import sqlalchemy as sa

from tests.console.test_console import post_webhook, row
from tests.factories import make_post
from workspace.extensions import db
from workspace.live import presence
from workspace.models import Queue, utcnow
from workspace.services.service_levels import clocks


def test_assigned_to_the_online_agent_with_why_then_a_live_breach_badge(app, open_console, live_server, redis):
    """Billing assigns round robin: Ana (online) gets the post, Bob (offline) is skipped; a breach shows live."""
    redis.delete(presence.AGENTS_KEY)  # nobody online but who signs in here
    with app.app_context():
        db.session.execute(sa.update(Queue).where(Queue.slug == "billing").values(assignment="round_robin"))
        db.session.commit()
    page = open_console("ana@example.com")
    page.click('#queues li[data-queue="billing"]')
    conversation_id = post_webhook(live_server, make_post(text="@billing my card was charged twice"))
    row(page, conversation_id).wait_for(timeout=15000)
    page.wait_for_function(
        f"() => document.querySelector('#rows .row[data-id=\"{conversation_id}\"] .assignee')"
        ".textContent === '→ Ana'",
        timeout=15000)
    row(page, conversation_id).click()
    page.click("#why")
    why = page.locator(".assignment-why")
    why.wait_for()
    assert "round robin: Ana" in why.inner_text()
    assert "Bob: offline, is offline" in why.inner_text()
    assert "first reply: due" in page.inner_text(".sla-targets")
    with app.app_context():  # the scheduler's watcher, two days on: the reply is late
        assert clocks.check(utcnow() + timedelta(days=2))["breached"] >= 1
    badge = row(page, conversation_id).locator(".chip.sla-breached")
    badge.wait_for(timeout=15000)
    assert badge.inner_text() == "SLA breached"
    assert page.errors == []
